// Structured output (issue 13) through the real clients pinned in tests/js, against a running r1serve with the
// R1 template and a reasoning budget: the openai client's chat.completions.parse (raw json_schema and the zod
// helper) and responses.create with text.format; vLLM's structured_outputs / guided_* fields; the AI SDK's
// generateObject through @ai-sdk/openai and @ai-sdk/openai-compatible; LangChain's withStructuredOutput.
// stories260K knows nothing of JSON: the grammar makes every answer valid, the budget makes it start. Every
// answer is validated with Ajv against its schema.
// Usage: node structured_e2e.mjs SCENARIO BASE_URL JS_DIR. Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [scenario, baseURL, jsDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const OpenAI = require('openai');
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, timeout: 60000 });
const Ajv2020 = require('ajv/dist/2020').default;
const ajv = new Ajv2020({ strict: false, allErrors: true });
const MODEL = 'stories260K-hf';

const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    mood: { enum: ['happy', 'sad'] },
    toys: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 2 },
  },
  required: ['name', 'age', 'mood', 'toys'],
  additionalProperties: false,
};

function valid(schema, value, what) {
  const v = ajv.compile(schema);
  assert.ok(v(value), `${what}: ${JSON.stringify(value)} does not validate: ${JSON.stringify(v.errors)}`);
}
function parsed(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    assert.fail(`${what}: not JSON: ${JSON.stringify(text)}`);
  }
}

const scenarios = {
  // The openai client: parse() with a raw json_schema and with the zod helper, streamed chat, the Responses API
  // with text.format, and the budget's effect on usage.
  async openai() {
    const messages = [{ role: 'user', content: 'Describe a child as JSON.' }];
    for (const temperature of [0, 1]) {
      const r = await client.beta.chat.completions.parse({ model: MODEL, messages, temperature, seed: 7,
        max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true,
          schema: PERSON } } });
      const m = r.choices[0].message;
      assert.equal(r.choices[0].finish_reason, 'stop', JSON.stringify(r));
      valid(PERSON, m.parsed, 'parse');
      assert.deepEqual(Object.keys(m.parsed), ['name', 'age', 'mood', 'toys'], 'keys in the schema order');
      assert.ok(m.reasoning_content.length > 0, 'the model thought first');
      // --max-reasoning-tokens 8: 8 thinking tokens, then the tokens of the forced </think>.
      assert.ok(r.usage.completion_tokens_details.reasoning_tokens >= 8, JSON.stringify(r.usage));
    }
    const { zodResponseFormat } = require('openai/helpers/zod');
    const { z } = require('zod');
    const Pet = z.object({ kind: z.enum(['cat', 'dog']), legs: z.number().int(), name: z.string().max(10) });
    const z1 = await client.beta.chat.completions.parse({ model: MODEL, messages, temperature: 1, seed: 3,
      max_tokens: 200, response_format: zodResponseFormat(Pet, 'pet') });
    assert.ok(Pet.safeParse(z1.choices[0].message.parsed).success, JSON.stringify(z1.choices[0].message));

    // Streamed: the content deltas join to valid JSON.
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, temperature: 1,
      seed: 5, max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: PERSON } } });
    let content = '';
    let finish = null;
    for await (const c of stream) {
      content += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'stop');
    valid(PERSON, parsed(content, 'streamed'), 'streamed');

    // json_object: any JSON object.
    const jo = await client.chat.completions.create({ model: MODEL, messages, temperature: 1, seed: 1,
      max_tokens: 120, response_format: { type: 'json_object' } });
    if (jo.choices[0].finish_reason === 'stop') {
      const v = parsed(jo.choices[0].message.content, 'json_object');
      assert.equal(typeof v, 'object');
      assert.ok(v !== null && !Array.isArray(v));
    } else {
      assert.equal(jo.choices[0].finish_reason, 'length');  // an object may be longer than max_tokens
      assert.match(jo.choices[0].message.content.trim(), /^\{/);
    }

    // Budget 0 per request: no thinking at all, the answer comes at once.
    const now = await client.chat.completions.create({ model: MODEL, messages, temperature: 0, max_tokens: 200,
      max_reasoning_tokens: 0, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: PERSON } } });
    // (stories260K's tokenizer writes </think> with a leading space, which is all the reasoning there is.)
    assert.equal((now.choices[0].message.reasoning_content ?? '').trim(), '', JSON.stringify(now.choices[0].message));
    valid(PERSON, parsed(now.choices[0].message.content, 'budget 0'), 'budget 0');

    // The Responses API: text.format json_schema, not streamed and streamed; the Response echoes the format.
    const fmt = { type: 'json_schema', name: 'person', strict: true, schema: PERSON };
    const resp = await client.responses.create({ model: MODEL, input: 'Describe a child.', temperature: 1, seed: 2,
      max_output_tokens: 200, text: { format: fmt } });
    assert.equal(resp.status, 'completed', JSON.stringify(resp));
    assert.equal(resp.text.format.type, 'json_schema');
    valid(PERSON, parsed(resp.output_text, 'responses'), 'responses');
    const rs = await client.responses.create({ model: MODEL, input: 'Describe a child.', temperature: 1, seed: 4,
      max_output_tokens: 200, text: { format: fmt }, stream: true });
    let done = null;
    for await (const e of rs) if (e.type === 'response.output_text.done') done = e.text;
    valid(PERSON, parsed(done, 'responses streamed'), 'responses streamed');
    const ro = await client.responses.create({ model: MODEL, input: 'x', max_output_tokens: 120, temperature: 0,
      text: { format: { type: 'json_object' } } });
    if (ro.status === 'completed') assert.equal(typeof parsed(ro.output_text, 'responses json_object'), 'object');
  },

  // vLLM's fields (the openai client passes unknown body fields through), on chat and completions.
  async vllm() {
    const messages = [{ role: 'user', content: 'Pick one.' }];
    const choice = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 60, temperature: 1,
      guided_choice: ['red', 'green', 'blue'] });
    assert.ok(['red', 'green', 'blue'].includes(choice.choices[0].message.content), JSON.stringify(choice.choices[0]));
    const re = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 40,
      temperature: 1, guided_regex: '[A-Z][a-z]{2,6} (is|was) [0-9]{1,2}' });
    assert.match(re.choices[0].text, /^[A-Z][a-z]{2,6} (is|was) [0-9]{1,2}$/);
    const so = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 200,
      temperature: 1, seed: 9, structured_outputs: { json: PERSON } });
    valid(PERSON, parsed(so.choices[0].text, 'structured_outputs.json'), 'structured_outputs.json');
    const gj = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 200, temperature: 1,
      seed: 11, guided_json: PERSON });
    valid(PERSON, parsed(gj.choices[0].message.content, 'guided_json'), 'guided_json');
    const gg = await client.completions.create({ model: MODEL, prompt: 'Once', max_tokens: 30, temperature: 1,
      guided_grammar: 'root ::= "yes" | "no" | num\nnum ::= [1-9] [0-9]?' });
    assert.match(gg.choices[0].text, /^(yes|no|[1-9][0-9]?)$/);
    // n > 1: every choice has its own grammar state.
    const many = await client.completions.create({ model: MODEL, prompt: 'Once', max_tokens: 200, temperature: 1,
      n: 3, guided_json: PERSON });
    assert.equal(many.choices.length, 3);
    for (const c of many.choices) valid(PERSON, parsed(c.text, 'n=3'), 'n=3');

    // What cannot be enforced is a 400 naming the field and the keyword.
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages, response_format: {
      type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', patternProperties: { a: {} } } } } }),
    (e) => e.status === 400 && e.param === 'response_format.json_schema.schema' && /patternProperties/.test(e.message));
    await assert.rejects(client.completions.create({ model: MODEL, prompt: 'x', guided_regex: '(?=a)b' }),
      (e) => e.status === 400 && e.param === 'guided_regex');
    await assert.rejects(client.completions.create({ model: MODEL, prompt: 'x', guided_grammar: 'root ::= undefined' }),
      (e) => e.status === 400 && e.param === 'guided_grammar');
    await assert.rejects(client.responses.create({ model: MODEL, input: 'x', text: { format: { type: 'json_schema',
      name: 'x', schema: { type: 'string', contentEncoding: 'base64' } } } }),
    (e) => e.status === 400 && e.param === 'text.format.schema');
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages, max_reasoning_tokens: -1 }),
      (e) => e.status === 400 && e.param === 'max_reasoning_tokens');
  },

  // The AI SDK: generateObject through the OpenAI provider (Responses API and chat) and the OpenAI-compatible
  // provider (chat completions with response_format json_schema).
  async aisdk() {
    const { generateObject, streamObject, jsonSchema } = await load('ai');
    const { createOpenAI } = await load('@ai-sdk/openai');
    const { createOpenAICompatible } = await load('@ai-sdk/openai-compatible');
    const openai = createOpenAI({ baseURL: baseURL + '/v1', apiKey: 'none' });
    const compat = createOpenAICompatible({ name: 'r1serve', baseURL: baseURL + '/v1',
      supportsStructuredOutputs: true });
    const schema = jsonSchema(PERSON);
    const models = { responses: openai(MODEL), chat: openai.chat(MODEL), compatible: compat.chatModel(MODEL) };
    for (const [what, model] of Object.entries(models)) {
      const g = await generateObject({ model, schema, prompt: 'Describe a child.', temperature: 1, seed: 13,
        maxOutputTokens: 200, maxRetries: 0 });
      valid(PERSON, g.object, `generateObject ${what}`);
      assert.equal(g.finishReason, 'stop');
    }
    const s = streamObject({ model: models.compatible, schema, prompt: 'Describe a child.', temperature: 1, seed: 17,
      maxOutputTokens: 200, maxRetries: 0 });
    let partials = 0;
    for await (const _ of s.partialObjectStream) ++partials;  // the promises settle once the stream is read
    assert.ok(partials > 1, 'partial objects streamed');
    valid(PERSON, await s.object, 'streamObject compatible');
  },

  // LangChain's ChatOpenAI.withStructuredOutput with a JSON schema and with zod (method jsonSchema), chat and
  // Responses API.
  async langchain() {
    const { ChatOpenAI } = await load('@langchain/openai');
    const { z } = require('zod');
    const opts = { model: MODEL, temperature: 1, maxTokens: 200, apiKey: 'none', maxRetries: 0,
      configuration: { baseURL: baseURL + '/v1' } };
    const named = { title: 'person', ...PERSON };
    const p = await new ChatOpenAI(opts).withStructuredOutput(named, { method: 'jsonSchema', strict: true })
      .invoke('Describe a child.');
    valid(PERSON, p, 'withStructuredOutput json schema');
    const Pet = z.object({ kind: z.enum(['cat', 'dog']), legs: z.number().int() });
    const pet = await new ChatOpenAI({ ...opts, useResponsesApi: true })
      .withStructuredOutput(Pet, { method: 'jsonSchema', name: 'pet' }).invoke('A pet?');
    assert.ok(Pet.safeParse(pet).success, JSON.stringify(pet));
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
