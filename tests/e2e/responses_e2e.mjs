// Drives a running r1serve's Responses API (and logit_bias) with the real clients pinned in tests/js: the openai
// client, the Vercel AI SDK's default OpenAI provider (which calls /v1/responses) and LangChain's ChatOpenAI
// with useResponsesApi. Every streamed event is checked against the Responses API's event schema.
// Usage: node responses_e2e.mjs SCENARIO BASE_URL JS_DIR. Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [scenario, baseURL, jsDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const OpenAI = require('openai');
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, timeout: 60000 });
const EOS = '2';  // stories260K's </s>: +100 on it ends the answer at once, so the response completes

// The Responses API's streaming events (OpenAI's published schema, the text and reasoning subset): the fields
// each must carry, with their JSON types.
const S = 'string', N = 'number', O = 'object', A = 'array';
const EVENT_FIELDS = {
  'response.created': { response: O },
  'response.in_progress': { response: O },
  'response.completed': { response: O },
  'response.incomplete': { response: O },
  'response.failed': { response: O },
  'response.output_item.added': { output_index: N, item: O },
  'response.output_item.done': { output_index: N, item: O },
  'response.content_part.added': { item_id: S, output_index: N, content_index: N, part: O },
  'response.content_part.done': { item_id: S, output_index: N, content_index: N, part: O },
  'response.output_text.delta': { item_id: S, output_index: N, content_index: N, delta: S, logprobs: A },
  'response.output_text.done': { item_id: S, output_index: N, content_index: N, text: S, logprobs: A },
  'response.reasoning_text.delta': { item_id: S, output_index: N, content_index: N, delta: S },
  'response.reasoning_text.done': { item_id: S, output_index: N, content_index: N, text: S },
};
const RESPONSE_FIELDS = { id: S, object: S, created_at: N, status: S, model: S, output: A, tools: A,
  parallel_tool_calls: 'boolean', metadata: O };
const typeOf = (v) => (Array.isArray(v) ? A : v === null ? 'null' : typeof v);

function checkFields(obj, fields, what) {
  for (const [k, t] of Object.entries(fields)) assert.equal(typeOf(obj[k]), t, `${what}.${k} should be ${t}: ${JSON.stringify(obj)}`);
}
function checkResponse(r, what) {
  checkFields(r, RESPONSE_FIELDS, what);
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  for (const item of r.output) {
    assert.ok(['message', 'reasoning'].includes(item.type), `${what}: item type ${item.type}`);
    assert.equal(typeof item.id, 'string');
    if (item.type === 'message') {
      assert.equal(item.role, 'assistant');
      for (const p of item.content) assert.equal(p.type, 'output_text');
    } else {
      assert.ok(Array.isArray(item.summary));
      for (const p of item.content) assert.equal(p.type, 'reasoning_text');
    }
  }
}
function checkUsage(u) {
  for (const k of ['input_tokens', 'output_tokens', 'total_tokens']) assert.equal(typeof u[k], 'number', k);
  assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);
  assert.equal(typeof u.input_tokens_details.cached_tokens, 'number');
  assert.equal(typeof u.output_tokens_details.reasoning_tokens, 'number');
}

// Checks a whole event stream: schema, sequence numbers 0, 1, 2, ..., item ids consistent between an item's
// added / delta / done events, deltas adding up to the done text, and one final event with usage.
function checkEventStream(events) {
  assert.ok(events.length >= 3, 'too few events');
  const items = new Map();  // output_index -> {id, type, text, done}
  events.forEach((e, i) => {
    assert.ok(EVENT_FIELDS[e.type], `unknown event type ${e.type}`);
    checkFields(e, EVENT_FIELDS[e.type], e.type);
    assert.equal(e.sequence_number, i, `sequence_number of event ${i} (${e.type})`);
    if (e.item) {
      if (e.type.endsWith('added')) {
        assert.ok(!items.has(e.output_index), 'output_index added twice');
        items.set(e.output_index, { id: e.item.id, type: e.item.type, text: '', done: false });
      } else {
        const it = items.get(e.output_index);
        assert.equal(e.item.id, it.id);
        const parts = e.item.content.map((p) => p.text).join('');
        assert.equal(parts, it.text, 'item text = its deltas');
        it.done = true;
      }
    }
    if (e.item_id) {
      const it = items.get(e.output_index);
      assert.ok(it && it.id === e.item_id, `${e.type}: item_id ${e.item_id} not the item at ${e.output_index}`);
      if (e.type.endsWith('.delta')) it.text += e.delta;
      if (e.type.endsWith('_text.done')) assert.equal(e.text, it.text);
    }
  });
  assert.equal(events[0].type, 'response.created');
  const last = events.at(-1);
  assert.ok(['response.completed', 'response.incomplete'].includes(last.type), `last event ${last.type}`);
  for (const it of items.values()) assert.ok(it.done, `item ${it.id} never done`);
  checkResponse(last.response, last.type);
  checkUsage(last.response.usage);
  assert.equal(events.filter((e) => e.type === last.type).length, 1);
  return last;
}

async function collect(params) {
  const stream = await client.responses.create({ ...params, stream: true });
  const events = [];
  for await (const e of stream) events.push(e);
  return events;
}

const scenarios = {
  // openai.responses.create streamed and not, and a follow-up with previous_response_id; GET and DELETE.
  async openai() {
    const r = await client.responses.create({ input: 'Tell me a story', max_output_tokens: 12, temperature: 0 });
    checkResponse(r, 'response');
    checkUsage(r.usage);
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.usage.output_tokens, 12);
    // R1's thinking is the reasoning item; cut inside it, every output token is a reasoning token.
    assert.equal(r.output[0].type, 'reasoning');
    assert.ok(r.output[0].content[0].text.length > 0);
    assert.equal(r.usage.output_tokens_details.reasoning_tokens, 12);

    const events = await collect({ input: 'Tell me a story', max_output_tokens: 12, temperature: 0 });
    const last = checkEventStream(events);
    assert.equal(last.type, 'response.incomplete');
    assert.equal(last.response.output[0].content[0].text, r.output[0].content[0].text, 'streamed = not streamed');
    assert.ok(events.some((e) => e.type === 'response.reasoning_text.delta'));

    // A response that ends by itself: response.completed, with a message item.
    const done = checkEventStream(await collect({ input: 'Hi', temperature: 0, logit_bias: { [EOS]: 100 } }));
    assert.equal(done.type, 'response.completed');
    assert.equal(done.response.status, 'completed');
    assert.ok(done.response.output.some((i) => i.type === 'message'));

    // The follow-up sees the first turn: its prompt holds both inputs and the first answer.
    const first = await client.responses.create({ input: 'Tell me a story', max_output_tokens: 4, temperature: 0 });
    const follow = await client.responses.create({ input: 'And then?', previous_response_id: first.id,
      max_output_tokens: 4, temperature: 0 });
    assert.equal(follow.previous_response_id, first.id);
    assert.ok(follow.usage.input_tokens > first.usage.input_tokens + 2, 'the follow-up prompt carries the first turn');
    const got = await client.responses.retrieve(first.id);
    assert.equal(got.id, first.id);
    assert.deepEqual(got.output, first.output);
    await client.responses.del(first.id);
    await assert.rejects(client.responses.retrieve(first.id), (e) => e.status === 404);
    await assert.rejects(client.responses.create({ input: 'x', previous_response_id: first.id }),
      (e) => e.status === 404 && e.param === 'previous_response_id');
    // store: false keeps nothing.
    const unstored = await client.responses.create({ input: 'Hi', max_output_tokens: 2, store: false });
    await assert.rejects(client.responses.retrieve(unstored.id), (e) => e.status === 404);
    // What is not built is refused by name: hosted tools.
    await assert.rejects(client.responses.create({ input: 'x', tools: [{ type: 'web_search' }] }),
      (e) => e.status === 400 && e.param === 'tools[0].type');
  },

  // The AI SDK's default OpenAI provider speaks the Responses API. The server runs without the reasoning
  // split here, so the answer is message text.
  async aisdk() {
    const { generateText, streamText } = await load('ai');
    const { createOpenAI } = await load('@ai-sdk/openai');
    const openai = createOpenAI({ baseURL: baseURL + '/v1', apiKey: 'none' });
    const model = openai('stories260K-hf');
    const g = await generateText({ model, prompt: 'Once upon a time', maxOutputTokens: 16, temperature: 0 });
    assert.ok(g.text.length > 0, 'generateText text');
    assert.equal(g.usage.outputTokens, 16);
    assert.equal(g.finishReason, 'length');
    const s = streamText({ model, prompt: 'Once upon a time', maxOutputTokens: 16, temperature: 0 });
    let text = '';
    for await (const d of s.textStream) text += d;
    assert.equal(text, g.text, 'streamText = generateText (greedy)');
    assert.equal((await s.usage).outputTokens, 16);
  },

  // LangChain's ChatOpenAI on the Responses API, invoke and stream.
  async langchain() {
    const { ChatOpenAI } = await load('@langchain/openai');
    const llm = new ChatOpenAI({ model: 'stories260K-hf', useResponsesApi: true, temperature: 0, maxTokens: 16,
      apiKey: 'none', configuration: { baseURL: baseURL + '/v1' }, maxRetries: 0 });
    const m = await llm.invoke('Once upon a time');
    const text = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join('');
    assert.ok(text.length > 0, 'invoke text');
    assert.equal(m.usage_metadata.output_tokens, 16);
    let streamed = '';
    for await (const c of await llm.stream('Once upon a time'))
      streamed += typeof c.content === 'string' ? c.content : c.content.map((p) => p.text ?? '').join('');
    assert.equal(streamed, text, 'stream = invoke (greedy)');
  },

  // The same SDKs on chat and completions still work now that unknown fields are refused: nothing they send
  // by default is refused.
  async sdk_chat_completions() {
    const { generateText, streamText } = await load('ai');
    const { createOpenAI } = await load('@ai-sdk/openai');
    const openai = createOpenAI({ baseURL: baseURL + '/v1', apiKey: 'none' });
    for (const model of [openai.chat('stories260K-hf'), openai.completion('stories260K-hf')]) {
      const g = await generateText({ model, prompt: 'Once upon a time', maxOutputTokens: 8, temperature: 0 });
      assert.ok(g.text.length > 0);
      let t = '';
      for await (const d of streamText({ model, prompt: 'Once upon a time', maxOutputTokens: 8, temperature: 0 }).textStream)
        t += d;
      assert.equal(t, g.text);
    }
    const { ChatOpenAI, OpenAI: LcOpenAI } = await load('@langchain/openai');
    const opts = { model: 'stories260K-hf', temperature: 0, maxTokens: 8, apiKey: 'none',
      configuration: { baseURL: baseURL + '/v1' }, maxRetries: 0 };
    const chat = await new ChatOpenAI(opts).invoke('Once upon a time');
    assert.ok(chat.content.length > 0);
    assert.ok((await new LcOpenAI(opts).invoke('Once upon a time')).length > 0);
  },

  // logit_bias on chat, completions and responses: -100 on the greedy first token changes it, +100 forces one.
  async logit_bias() {
    const first = async (extra) => {
      const r = await client.completions.create({ prompt: 'Once upon a time', max_tokens: 1, temperature: 0,
        logprobs: 0, ...extra });
      return r.choices[0].logprobs.tokens[0];
    };
    const ids = async (text) => (await (await fetch(baseURL + '/tokenize', { method: 'POST',
      body: JSON.stringify({ prompt: text, add_special_tokens: false }) })).json()).tokens;
    // A token's id: the one the text adds to the prompt's (a piece alone may tokenize differently).
    const prompt = await ids('Once upon a time');
    const idOf = async (text) => (await ids('Once upon a time' + text))[prompt.length];
    const greedy = await first({});
    const gid = await idOf(greedy);
    assert.notEqual(await first({ logit_bias: { [gid]: -100 } }), greedy, 'banned greedy token');
    const forced = await idOf(' Lily');  // one token in this vocabulary
    const forcedText = await first({ logit_bias: { [forced]: 100 } });
    assert.equal(await idOf(forcedText), forced, 'forced token');
    const chat = await client.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3,
      temperature: 0, logit_bias: { [forced]: 100 } });
    assert.equal(chat.choices[0].message.reasoning_content, ' Lily Lily Lily');
    const resp = await client.responses.create({ input: 'Hi', max_output_tokens: 2, temperature: 0,
      logit_bias: { [forced]: 100 } });
    assert.equal(resp.output[0].content[0].text, ' Lily Lily');
    await assert.rejects(client.completions.create({ prompt: 'x', logit_bias: { 999999: 1 } }),
      (e) => e.status === 400 && e.param === 'logit_bias');
    await assert.rejects(client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }],
      logit_bias: { 5: 101 } }), (e) => e.status === 400 && e.param === 'logit_bias');
    await assert.rejects(client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function' }] }), (e) => e.status === 400 && e.param === 'tools[0].function');
    await assert.rejects(client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }],
      tool_choice: 'required' }), (e) => e.status === 400 && e.param === 'tool_choice');
    // A chat answer's usage counts R1's thinking.
    assert.equal(chat.usage.completion_tokens_details.reasoning_tokens, 3);
  },
};

try {
  await scenarios[scenario]();
  console.log(`${scenario}: ok`);
} catch (e) {
  console.error(`${scenario}: FAILED`);
  console.error(e);
  process.exit(1);
}
