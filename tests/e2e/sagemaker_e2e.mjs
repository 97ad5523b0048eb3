// Drives a running r1serve with the real AWS SDK (tests/js/node_modules/@aws-sdk/client-sagemaker-runtime):
// the client's endpoint pointed at the server, static dummy credentials, everything else as a SageMaker user
// writes it. Usage: node sagemaker_e2e.mjs SCENARIO BASE_URL JS_DIR HANDLER [OPTIONS_JSON]
//   HANDLER: "http1" (NodeHttpHandler, HTTP/1.1) or "default" (the SDK's own handler)
//   OPTIONS_JSON: {"endpoint"} to call another endpoint than stories260K-hf, {"file"} a text an error must name
// Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const [scenario, baseURL, jsDir, handler, optionsJson] = process.argv.slice(2);
const options = optionsJson ? JSON.parse(optionsJson) : {};
const require = createRequire(jsDir + '/package.json');
const sm = require('@aws-sdk/client-sagemaker-runtime');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const config = {
  endpoint: baseURL,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' },
  maxAttempts: 1,
};
if (handler === 'http1') config.requestHandler = new NodeHttpHandler({ requestTimeout: 60000 });
const client = new sm.SageMakerRuntimeClient(config);
const enc = (o) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));
const text = (b) => new TextDecoder().decode(b);

async function invoke(body, EndpointName = 'stories260K-hf') {
  const r = await client.send(new sm.InvokeEndpointCommand({ EndpointName, Body: enc(body), ContentType: 'application/json' }));
  return { r, body: JSON.parse(text(r.Body)) };
}

// Every PayloadPart of an InvokeEndpointWithResponseStream, decoded by the SDK, with its arrival time.
async function invokeStream(body, EndpointName = 'stories260K-hf') {
  const r = await client.send(new sm.InvokeEndpointWithResponseStreamCommand({ EndpointName, Body: enc(body), ContentType: 'application/json' }));
  const parts = [];
  for await (const ev of r.Body) {
    assert.ok(ev.PayloadPart, 'only PayloadPart events: ' + JSON.stringify(Object.keys(ev)));
    parts.push({ t: performance.now(), text: text(ev.PayloadPart.Bytes) });
  }
  return { r, parts };
}

// The JSON of each `data:` line of an SSE text.
function sseEvents(all) {
  return all.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim())
    .filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
}

async function expectError(fn, type, status) {
  try {
    await fn();
  } catch (e) {
    assert.equal(e.name, type, `${e.name}: ${e.message}`);
    if (sm[type]) assert.ok(e instanceof sm[type], `an instance of the SDK's ${type}`);
    assert.equal(e.$metadata.httpStatusCode, status);
    assert.ok(e.message.length > 0, 'a message');
    return e;
  }
  assert.fail(`expected ${type}`);
}

const scenarios = {
  // InvokeEndpoint with TGI's, a chat and a completion body; the endpoint name as a model or the default.
  async invoke() {
    const inputs = 'Once upon a time';
    const tgi = await invoke({ inputs, parameters: { max_new_tokens: 12, details: true } });
    assert.equal(tgi.r.ContentType, 'application/json');
    assert.equal(tgi.r.InvokedProductionVariant, 'AllTraffic');
    assert.ok(tgi.r.$metadata.requestId, 'x-amzn-requestid');
    assert.ok(Array.isArray(tgi.body), 'TGI answers /invocations as POST /: an array');
    assert.equal(typeof tgi.body[0].generated_text, 'string');
    assert.ok(tgi.body[0].generated_text.length > 0);
    assert.equal(tgi.body[0].details.generated_tokens, 12);
    assert.equal(tgi.body[0].details.finish_reason, 'length');
    // Any other endpoint name is the default model's endpoint: the same greedy text.
    const other = await invoke({ inputs, parameters: { max_new_tokens: 12 } }, 'my-r1-endpoint');
    assert.equal(other.body[0].generated_text, tgi.body[0].generated_text);

    const chat = await invoke({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 16, temperature: 0 });
    assert.equal(chat.r.InvokedProductionVariant, 'AllTraffic');
    assert.equal(chat.body.object, 'chat.completion');
    assert.equal(chat.body.model, 'stories260K-hf');
    assert.equal(chat.body.choices[0].finish_reason, 'length');
    assert.equal(chat.body.usage.completion_tokens, 16);

    const comp = await invoke({ prompt: inputs, max_tokens: 12, temperature: 0 });
    assert.equal(comp.body.object, 'text_completion');
    assert.equal(comp.body.choices[0].text, tgi.body[0].generated_text);

    // A body that asks to stream, through InvokeEndpoint: the whole stream as one body, as SageMaker does.
    const streamed = await client.send(new sm.InvokeEndpointCommand({ EndpointName: 'x', Body: enc({ inputs, parameters: { max_new_tokens: 4 }, stream: true }) }));
    assert.match(streamed.ContentType, /^text\/event-stream/);
    assert.equal(sseEvents(text(streamed.Body)).length, 4);
  },

  // InvokeEndpointWithResponseStream: PayloadParts as the tokens come, in the body's protocol's stream format.
  async stream() {
    const inputs = 'Once upon a time';
    const whole = (await invoke({ inputs, parameters: { max_new_tokens: 100 } })).body[0].generated_text;
    const { r, parts } = await invokeStream({ inputs, parameters: { max_new_tokens: 100, details: true }, stream: true });
    assert.equal(r.InvokedProductionVariant, 'AllTraffic');
    assert.match(r.ContentType, /^text\/event-stream/);
    assert.ok(parts.length > 10, `${parts.length} parts`);
    assert.ok(parts[parts.length - 1].t > parts[0].t, 'the first part came before the last was written');
    const events = sseEvents(parts.map((p) => p.text).join(''));
    assert.equal(events.length, 100);
    assert.equal(events.map((e) => e.token.text).join(''), whole);
    assert.equal(events[99].generated_text, whole);
    assert.equal(events[99].details.finish_reason, 'length');

    // A chat body streams OpenAI chunks (no "stream" in the body: the route streams).
    const chat = await invokeStream({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 16, temperature: 0 });
    const chunks = sseEvents(chat.parts.map((p) => p.text).join(''));
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.ok(chat.parts.map((p) => p.text).join('').includes('data: [DONE]'));
    const fin = chunks.filter((c) => c.choices?.[0]?.finish_reason);
    assert.equal(fin[0].choices[0].finish_reason, 'length');

    // A completion body that says stream: false comes whole, as one PayloadPart.
    const comp = await invokeStream({ prompt: inputs, max_tokens: 8, stream: false });
    assert.equal(comp.parts.length, 1);
    assert.equal(JSON.parse(comp.parts[0].text).object, 'text_completion');
  },

  // Refusals are the SDK's typed exceptions.
  async errors() {
    await expectError(() => invoke({ nothing: 1 }), 'ValidationError', 400);
    await expectError(() => invoke('not json'), 'ValidationError', 400);
    await expectError(() => invoke({ inputs: 'x', parameters: { max_new_tokens: 0 } }), 'ValidationError', 400);
    await expectError(() => invoke({ messages: [{ role: 'user', content: 'Hi' }], temperature: 9 }), 'ValidationError', 400);
    await expectError(() => invokeStream({ nothing: 1 }), 'ValidationError', 400);
    await expectError(() => invokeStream({ inputs: 'x', parameters: { max_new_tokens: 0 } }), 'ValidationError', 400);
  },

  // The endpoint's model cannot load (its files were corrupted after start): ModelError 424, as SageMaker
  // reports a container's failure, with the container's status (TGI's 424 generation, OpenAI's 500) as
  // OriginalStatusCode and a message naming the file.
  async modelerror() {
    const cases = [
      [{ inputs: 'Once', parameters: { max_new_tokens: 3 } }, 424],
      [{ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 }, 500],
    ];
    for (const [body, original] of cases) {
      const e = await expectError(() => invoke(body, options.endpoint), 'ModelError', 424);
      assert.equal(e.OriginalStatusCode, original, JSON.stringify(body));
      assert.ok(e.OriginalMessage.includes(options.file), e.OriginalMessage);
      assert.ok(e.message.includes(options.file), e.message);
    }
    const s = await expectError(() => invokeStream({ inputs: 'Once', parameters: { max_new_tokens: 3 }, stream: true }, options.endpoint), 'ModelError', 424);
    assert.ok(s.message.includes(options.file), s.message);
  },

  // Past the server's --request-timeout, the container answers what it generated (finish_reason length, as
  // TGI's max_new_tokens would), so SageMaker passes a 200 through.
  async timeout() {
    const { body } = await invoke({ inputs: 'Once upon a time', parameters: { max_new_tokens: 400, details: true } }, options.endpoint);
    assert.equal(body[0].details.finish_reason, 'length');
    assert.ok(body[0].details.generated_tokens > 0 && body[0].details.generated_tokens < 400, JSON.stringify(body[0].details));
  },
};

const fn = scenarios[scenario];
if (!fn) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
try {
  await fn();
  client.destroy();
} catch (e) {
  console.error(e);
  process.exit(1);
}
