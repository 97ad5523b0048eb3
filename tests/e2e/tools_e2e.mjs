// Tool calls (issue 13) through the real clients pinned in tests/js, against a running r1serve with the R1
// template, a reasoning budget and a random-weight model (tiny-llama-tied with stories260K's tokenizer: its
// 4096 positions hold the tool list; its answers are noise, so the grammar alone makes every call
// well-formed). The openai client (chat streamed and not, responses.create), the AI SDK's generateText with
// toolChoice 'required' (@ai-sdk/openai chat and responses, @ai-sdk/openai-compatible), and LangChain's
// bindTools with tool_choice. Every call's arguments are validated with Ajv against the function's schema.
// Usage: node tools_e2e.mjs SCENARIO BASE_URL JS_DIR. Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [scenario, baseURL, jsDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const OpenAI = require('openai');
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, timeout: 120000 });
const Ajv2020 = require('ajv/dist/2020').default;
const ajv = new Ajv2020({ strict: false, allErrors: true });
const MODEL = 'tiny';

const WEATHER = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 10 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
  required: ['city', 'days'],
  additionalProperties: false,
};
const TIME = {
  type: 'object',
  properties: { zone: { enum: ['UTC', 'CET', 'PST'] } },
  required: ['zone'],
  additionalProperties: false,
};
const SCHEMAS = { get_weather: WEATHER, get_time: TIME };
const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather forecast for a city', parameters: WEATHER } },
  { type: 'function', function: { name: 'get_time', description: 'Current time in a zone', parameters: TIME } },
];
const messages = [{ role: 'user', content: 'What is the weather in Paris for 3 days?' }];

function validCall(name, args, what) {
  assert.ok(SCHEMAS[name], `${what}: unknown function ${name}`);
  const value = typeof args === 'string' ? JSON.parse(args) : args;
  const v = ajv.compile(SCHEMAS[name]);
  assert.ok(v(value), `${what}: ${name}(${JSON.stringify(value)}) does not validate: ${JSON.stringify(v.errors)}`);
}

const scenarios = {
  async openai() {
    // required, not streamed: one or more calls (parallel), each well-formed; no content.
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS, tool_choice: 'required',
        temperature: 1, seed, max_tokens: 800 });
      const c = r.choices[0];
      assert.equal(c.finish_reason, 'tool_calls', JSON.stringify(c));
      assert.equal(c.message.content, null);
      assert.ok(c.message.tool_calls.length >= 1 && c.message.tool_calls.length <= 4);
      for (const tc of c.message.tool_calls) {
        assert.equal(tc.type, 'function');
        assert.match(tc.id, /^call_/);
        validCall(tc.function.name, tc.function.arguments, 'required');
      }
    }
    // A named function, streamed, one call (parallel_tool_calls false): the deltas build exactly one call.
    const stream = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS, stream: true,
      tool_choice: { type: 'function', function: { name: 'get_time' } }, parallel_tool_calls: false,
      temperature: 1, seed: 4, max_tokens: 800 });
    const calls = [];
    let finish = null;
    for await (const chunk of stream) {
      const ch = chunk.choices[0];
      if (!ch) continue;
      for (const d of ch.delta?.tool_calls ?? []) {
        calls[d.index] ??= { id: '', name: '', arguments: '' };
        if (d.id) calls[d.index].id = d.id;
        if (d.function?.name) calls[d.index].name += d.function.name;
        if (d.function?.arguments) calls[d.index].arguments += d.function.arguments;
      }
      finish = ch.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_time');
    validCall('get_time', calls[0].arguments, 'streamed named');

    // none: no calls; auto: the model is free (this one never writes the call markers), still a normal answer.
    const none = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS, tool_choice: 'none',
      temperature: 0, max_tokens: 20 });
    assert.deepEqual(none.choices[0].message.tool_calls, []);
    assert.notEqual(none.choices[0].finish_reason, 'tool_calls');
    const auto = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS, temperature: 0,
      max_tokens: 20 });
    assert.ok(['length', 'stop', 'tool_calls'].includes(auto.choices[0].finish_reason));

    // The follow-up turn: the assistant's calls and the tool's result render through R1's template.
    const first = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false,
      temperature: 1, seed: 5, max_tokens: 800 });
    const call = first.choices[0].message.tool_calls[0];
    const follow = await client.chat.completions.create({ model: MODEL, tools: TOOLS, temperature: 0, max_tokens: 8,
      messages: [...messages, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' }] });
    assert.ok(follow.usage.prompt_tokens > first.usage.prompt_tokens, 'the follow-up prompt carries the call and result');

    // Errors name the field.
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages, tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'nope' } } }), (e) => e.status === 400 && e.param === 'tool_choice');
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages,
      tools: [{ type: 'web_search' }] }), (e) => e.status === 400 && e.param === 'tools[0].type');
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages, tools: TOOLS, tool_choice: 'required',
      response_format: { type: 'json_object' } }), (e) => e.status === 400 && e.param === 'response_format');
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages, tool_choice: 'required',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', patternProperties: {} } } }] }),
    (e) => e.status === 400 && e.param === 'tools[0].function.parameters' && /patternProperties/.test(e.message));
  },

  // The Responses API: function tools, a function_call output item, streamed events, and the follow-up with a
  // function_call_output input item.
  async responses() {
    const tools = TOOLS.map((t) => ({ type: 'function', ...t.function }));
    const r = await client.responses.create({ model: MODEL, input: 'Weather in Paris?', tools, tool_choice: 'required',
      parallel_tool_calls: false, temperature: 1, seed: 6, max_output_tokens: 800 });
    assert.equal(r.status, 'completed', JSON.stringify(r));
    const calls = r.output.filter((i) => i.type === 'function_call');
    assert.equal(calls.length, 1, JSON.stringify(r.output));
    assert.ok(!r.output.some((i) => i.type === 'message'));
    validCall(calls[0].name, calls[0].arguments, 'responses');
    assert.match(calls[0].call_id, /^call_/);
    assert.equal(r.tools.length, 2);

    const events = [];
    for await (const e of await client.responses.create({ model: MODEL, input: 'Time?', tools, stream: true,
      tool_choice: { type: 'function', name: 'get_time' }, temperature: 1, seed: 7, max_output_tokens: 800 }))
      events.push(e);
    const done = events.filter((e) => e.type === 'response.function_call_arguments.done');
    assert.ok(done.length >= 1, events.map((e) => e.type).join(' '));
    for (const d of done) validCall('get_time', d.arguments, 'responses streamed');
    events.forEach((e, i) => assert.equal(e.sequence_number, i));
    assert.equal(events.at(-1).type, 'response.completed');

    const follow = await client.responses.create({ model: MODEL, tools, max_output_tokens: 8, temperature: 0,
      input: [{ role: 'user', content: 'Weather in Paris?' }, calls[0],
        { type: 'function_call_output', call_id: calls[0].call_id, output: '{"temp": 21}' }] });
    assert.ok(follow.usage.input_tokens > r.usage.input_tokens);
  },

  // The AI SDK: generateText with tools and toolChoice 'required' through three providers.
  async aisdk() {
    const { generateText, tool, jsonSchema } = await load('ai');
    const { createOpenAI } = await load('@ai-sdk/openai');
    const { createOpenAICompatible } = await load('@ai-sdk/openai-compatible');
    const openai = createOpenAI({ baseURL: baseURL + '/v1', apiKey: 'none' });
    const compat = createOpenAICompatible({ name: 'r1serve', baseURL: baseURL + '/v1' });
    const tools = {
      get_weather: tool({ description: 'Weather forecast for a city', inputSchema: jsonSchema(WEATHER) }),
      get_time: tool({ description: 'Current time in a zone', inputSchema: jsonSchema(TIME) }),
    };
    const models = { chat: openai.chat(MODEL), responses: openai(MODEL), compatible: compat.chatModel(MODEL) };
    for (const [what, model] of Object.entries(models)) {
      const g = await generateText({ model, tools, toolChoice: 'required', prompt: 'Weather in Paris?',
        temperature: 1, maxOutputTokens: 800, maxRetries: 0 });
      assert.equal(g.finishReason, 'tool-calls', `${what}: ${g.finishReason}`);
      assert.ok(g.toolCalls.length >= 1, what);
      for (const c of g.toolCalls) validCall(c.toolName, c.input, `ai ${what}`);
    }
  },

  // LangChain: bindTools with tool_choice naming a function and 'required'.
  async langchain() {
    const { ChatOpenAI } = await load('@langchain/openai');
    const llm = new ChatOpenAI({ model: MODEL, temperature: 1, maxTokens: 800, apiKey: 'none', maxRetries: 0,
      configuration: { baseURL: baseURL + '/v1' } });
    const named = await llm.bindTools(TOOLS, { tool_choice: 'get_weather' }).invoke('Weather in Paris?');
    assert.ok(named.tool_calls.length >= 1, JSON.stringify(named));
    for (const c of named.tool_calls) {
      assert.equal(c.name, 'get_weather');
      validCall(c.name, c.args, 'langchain named');
    }
    const req = await llm.bindTools(TOOLS, { tool_choice: 'required' }).invoke('What time is it?');
    assert.ok(req.tool_calls.length >= 1);
    for (const c of req.tool_calls) validCall(c.name, c.args, 'langchain required');
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
