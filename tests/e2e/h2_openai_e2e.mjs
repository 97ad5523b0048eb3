// The OpenAI routes over h2c (Node's http2 module as the client) give the same answers as over HTTP/1.1,
// streaming included. Usage: node h2_openai_e2e.mjs BASE_URL JS_DIR. Exits non-zero on the first difference.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import http2 from 'node:http2';
import { h2Fetch } from './h2_fetch.mjs';

const [baseURL, jsDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const OpenAI = require('openai');
const h2 = h2Fetch(baseURL);
const over1 = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0 });
const over2 = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, fetch: h2 });

// Fields that differ between two identical requests.
const strip = (r) => ({ ...r, id: undefined, created: undefined });

async function collect(client, params, chat) {
  const stream = chat ? await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })
    : await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '', reasoning = '', chunks = 0, usage = null, finish = null;
  for await (const c of stream) {
    chunks++;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      text += chat ? (ch.delta.content ?? '') : ch.text;
      reasoning += chat ? (ch.delta.reasoning_content ?? '') : '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { text, reasoning, chunks, usage, finish };
}

const model = (await over2.models.list()).data[0].id;
assert.deepEqual(await over2.models.list().then((l) => l.data), await over1.models.list().then((l) => l.data));

const chat = { model, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 48, temperature: 0 };
assert.deepEqual(strip(await over2.chat.completions.create(chat)), strip(await over1.chat.completions.create(chat)));
const comp = { model, prompt: 'Once upon a time', max_tokens: 48, temperature: 0 };
assert.deepEqual(strip(await over2.completions.create(comp)), strip(await over1.completions.create(comp)));

const s1 = await collect(over1, chat, true), s2 = await collect(over2, chat, true);
assert.deepEqual(s2, s1);
assert.ok(s2.chunks > 10 && s2.reasoning.length > 0);
const c1 = await collect(over1, comp, false), c2 = await collect(over2, comp, false);
assert.deepEqual(c2, c1);
assert.ok(c2.chunks > 10);

// Many streams at once on the one connection.
const many = await Promise.all(Array.from({ length: 8 }, (_, i) => collect(over2, { ...comp, prompt: `Story ${i}`, max_tokens: 24 }, false)));
for (const m of many) assert.equal(m.usage.completion_tokens, 24);

// Errors: the same status and body.
for (const [path, body] of [['/v1/completions', '{"prompt": "x", "max_tokens": "ten"}'], ['/v1/nope', '{}'], ['/v1/chat/completions', '{bad']]) {
  const a = await fetch(baseURL + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const b = await h2(baseURL + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(b.status, a.status);
  assert.deepEqual(await b.json(), await a.json());
}
// HEAD and GET /health.
assert.equal((await h2(baseURL + '/health')).status, 200);
const head = await h2(baseURL + '/v1/models', { method: 'HEAD' });
assert.equal(head.status, 200);
assert.ok(Number(head.headers.get('content-length')) > 0);

// A stream the client resets mid-way is cancelled in the server: it goes idle again.
const ac = new AbortController();
const long = await over2.completions.create({ ...comp, max_tokens: 400, ignore_eos: true, stream: true }, { signal: ac.signal });
let n = 0;
try {
  for await (const _ of long) if (++n === 3) ac.abort();
} catch (e) {
  assert.ok(e.name === 'AbortError' || e instanceof OpenAI.APIUserAbortError, String(e));
}
const metric = (text, name) => Number(text.split('\n').find((l) => l.startsWith(name + '{')).split(' ').pop());
let idle = false;
for (let i = 0; i < 100 && !idle; i++) {
  const m = await (await h2(baseURL + '/metrics')).text();
  idle = metric(m, 'vllm:num_requests_running') === 0 && metric(m, 'vllm:kv_cache_usage_perc') === 0;
  if (!idle) await new Promise((r) => setTimeout(r, 100));
}
assert.ok(idle, 'the reset stream was aborted in the engine');
h2.close();
console.log('ok');
