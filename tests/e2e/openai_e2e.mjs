// Drives a running r1serve with the official openai npm client (tests/js/node_modules/openai).
// Usage: node openai_e2e.mjs SCENARIO BASE_URL JS_DIR [API_KEY]. Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const [scenario, baseURL, jsDir, apiKey] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const OpenAI = require('openai');
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: apiKey || 'none', maxRetries: 0, timeout: 60000 });
const user = (content) => [{ role: 'user', content }];

async function modelId() {
  const list = await client.models.list();
  assert.equal(list.data.length, 1);
  return list.data[0].id;
}

async function collectChat(params) {
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  const out = { content: {}, reasoning: {}, finish: {}, chunks: 0, usage: null, logprobs: {} };
  for await (const chunk of stream) {
    out.chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.ok(chunk.id.startsWith('chatcmpl-'));
    if (chunk.usage) {
      assert.equal(chunk.choices.length, 0);
      out.usage = chunk.usage;
      continue;
    }
    for (const c of chunk.choices) {
      out.content[c.index] = (out.content[c.index] ?? '') + (c.delta.content ?? '');
      out.reasoning[c.index] = (out.reasoning[c.index] ?? '') + (c.delta.reasoning_content ?? '');
      if (c.logprobs) out.logprobs[c.index] = (out.logprobs[c.index] ?? []).concat(c.logprobs.content);
      if (c.finish_reason) out.finish[c.index] = c.finish_reason;
    }
  }
  return out;
}

async function collectCompletion(params) {
  const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  const out = { text: {}, finish: {}, usage: null };
  for await (const chunk of stream) {
    if (chunk.usage) { out.usage = chunk.usage; continue; }
    for (const c of chunk.choices) {
      out.text[c.index] = (out.text[c.index] ?? '') + c.text;
      if (c.finish_reason) out.finish[c.index] = c.finish_reason;
    }
  }
  return out;
}

const scenarios = {
  // Chat, non-streamed and streamed, with the R1 template: reasoning split, usage, greedy agreement.
  async chat() {
    const model = await modelId();
    const params = { model, messages: user('Tell me a story'), max_tokens: 40, temperature: 0 };
    const r = await client.chat.completions.create(params);
    assert.ok(r.id.startsWith('chatcmpl-'));
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.model, model);
    assert.equal(typeof r.created, 'number');
    assert.ok(r.system_fingerprint);
    assert.equal(r.choices.length, 1);
    const m = r.choices[0].message;
    assert.equal(m.role, 'assistant');
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    // stories260K never writes </think>: a cut by max_tokens is all reasoning.
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.ok(m.reasoning_content.length > 0, 'reasoning_content');
    assert.equal(m.reasoning, m.reasoning_content);
    assert.ok(m.content === null || m.content === '');
    assert.equal(r.usage.completion_tokens, 40);
    assert.ok(r.usage.prompt_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 40);

    const s = await collectChat(params);
    assert.equal(s.reasoning[0], m.reasoning_content, 'stream and non-stream agree (greedy)');
    assert.equal(s.content[0], m.content ?? '');
    assert.equal(s.finish[0], 'length');
    assert.deepEqual(s.usage, r.usage);
  },

  // Completions: text and token-id prompts, streaming, stop strings, echo, n, seed.
  async completions() {
    const model = await modelId();
    const base = { model, prompt: 'Once upon a time', max_tokens: 32, temperature: 0 };
    const r = await client.completions.create(base);
    assert.ok(r.id.startsWith('cmpl-'));
    assert.equal(r.object, 'text_completion');
    const text = r.choices[0].text;
    assert.ok(text.length > 0);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 32);

    const s = await collectCompletion(base);
    assert.equal(s.text[0], text, 'streamed text equals the whole response');
    assert.equal(s.finish[0], 'length');
    assert.equal(s.usage.completion_tokens, 32);

    // A stop string from the middle of the greedy text: output ends right before it, finish_reason stop.
    const stop = text.slice(10, 14);
    const cut = text.slice(0, text.indexOf(stop));
    const st = await client.completions.create({ ...base, stop: [stop, 'zzzz'] });
    assert.equal(st.choices[0].text, cut);
    assert.equal(st.choices[0].finish_reason, 'stop');
    const sst = await collectCompletion({ ...base, stop });
    assert.equal(sst.text[0], cut);
    assert.equal(sst.finish[0], 'stop');

    // Token ids in, echo: the prompt comes back first.
    const tok = await (await fetch(baseURL + '/tokenize', { method: 'POST', headers: { 'Content-Type': 'application/json', ...(apiKey ? { Authorization: 'Bearer ' + apiKey } : {}) }, body: JSON.stringify({ prompt: 'Once upon a time' }) })).json();
    const ids = await client.completions.create({ ...base, prompt: tok.tokens, echo: true });
    assert.ok(ids.choices[0].text.endsWith(text), 'same continuation from ids');
    assert.ok(ids.choices[0].text.startsWith('Once upon a time'));
    assert.equal(ids.usage.prompt_tokens, tok.count);

    // n > 1 with a seed: n choices, indexed, reproducible.
    const nr = { model, prompt: 'The cat', max_tokens: 12, temperature: 1, n: 3, seed: 7 };
    const a = await client.completions.create(nr);
    const b = await client.completions.create(nr);
    assert.deepEqual(a.choices.map((c) => c.index), [0, 1, 2]);
    assert.deepEqual(a.choices.map((c) => c.text), b.choices.map((c) => c.text));
    assert.equal(a.usage.completion_tokens, 36);
    const ns = await collectCompletion(nr);
    assert.deepEqual(Object.keys(ns.text).sort(), ['0', '1', '2']);
    // Several prompts: choices ordered prompt by prompt.
    const mp = await client.completions.create({ model, prompt: ['A dog', 'A cat'], max_tokens: 4, n: 2 });
    assert.equal(mp.choices.length, 4);
  },

  // Log-probabilities in both formats.
  async logprobs() {
    const model = await modelId();
    const r = await client.chat.completions.create({ model, messages: user('Hi'), max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3 });
    const lp = r.choices[0].logprobs.content;
    assert.equal(lp.length, 8);
    for (const e of lp) {
      assert.equal(typeof e.token, 'string');
      assert.ok(e.logprob <= 0);
      assert.ok(Array.isArray(e.bytes));
      assert.equal(e.top_logprobs.length, 3);
      // greedy: the sampled token is the most likely one
      assert.ok(Math.abs(e.top_logprobs[0].logprob - e.logprob) < 1e-5);
    }
    const s = await collectChat({ model, messages: user('Hi'), max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 2 });
    assert.equal(s.logprobs[0].length, 8);
    assert.deepEqual(s.logprobs[0].map((e) => e.token), lp.map((e) => e.token));

    const c = await client.completions.create({ model, prompt: 'Once upon', max_tokens: 6, temperature: 0, logprobs: 2 });
    const cl = c.choices[0].logprobs;
    assert.equal(cl.tokens.length, 6);
    assert.equal(cl.token_logprobs.length, 6);
    assert.equal(cl.top_logprobs.length, 6);
    assert.equal(Object.keys(cl.top_logprobs[0]).length <= 2, true);
    assert.equal(cl.text_offset[0], 0);
    assert.equal(cl.tokens.join(''), c.choices[0].text);
  },

  // Errors the client sees as typed exceptions with OpenAI's error body.
  async errors() {
    const model = await modelId();
    const expectError = async (promise, status, param) => {
      try {
        await promise;
      } catch (e) {
        assert.equal(e.status, status, `${e.status} ${e.message}`);
        assert.ok(e.error && typeof e.error.message === 'string', 'OpenAI error body');
        if (param !== undefined) assert.equal(e.param, param);
        return e;
      }
      assert.fail(`expected ${status}`);
    };
    await expectError(client.chat.completions.create({ model, messages: user('x'), temperature: 5 }), 400, 'temperature');
    await expectError(client.chat.completions.create({ model, messages: user('x'), n: 0 }), 400, 'n');
    await expectError(client.chat.completions.create({ model, messages: 'x' }), 400, 'messages');
    await expectError(client.completions.create({ model, prompt: 'x', logprobs: 99 }), 400, 'logprobs');
    const nf = await expectError(client.chat.completions.create({ model: 'no-such-model', messages: user('x') }), 404, 'model');
    assert.equal(nf.code, 'model_not_found');
    assert.ok(nf instanceof OpenAI.NotFoundError);
    const long = await expectError(client.completions.create({ model, prompt: 'x', max_tokens: 100000 }), 400, 'max_tokens');
    assert.match(long.message, /100000/);
    await expectError(client.completions.create({ model, prompt: 'x', max_tokens: 100000, stream: true }), 400, 'max_tokens');
    // The server is still fine.
    const ok = await client.completions.create({ model, prompt: 'x', max_tokens: 2 });
    assert.equal(ok.choices.length, 1);
  },

  // --api-key: 401 without it or with a wrong one; /health and /metrics stay open.
  async auth() {
    const bad = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'wrong', maxRetries: 0 });
    try {
      await bad.models.list();
      assert.fail('expected 401');
    } catch (e) {
      assert.equal(e.status, 401);
      assert.ok(e instanceof OpenAI.AuthenticationError);
    }
    const none = await fetch(baseURL + '/v1/models');
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, 'invalid_api_key');
    assert.equal((await fetch(baseURL + '/health')).status, 200);
    assert.equal((await fetch(baseURL + '/metrics')).status, 200);
    const model = await modelId();  // the right key works
    const r = await client.completions.create({ model, prompt: 'x', max_tokens: 2 });
    assert.equal(r.choices.length, 1);
  },
};

const fn = scenarios[scenario];
if (!fn) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
try {
  await fn();
  console.log(`${scenario}: ok`);
} catch (e) {
  console.error(`${scenario}: FAILED`);
  console.error(e);
  process.exit(1);
}
