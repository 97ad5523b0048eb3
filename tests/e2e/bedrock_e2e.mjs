// Drives a running r1serve with the real AWS SDK (tests/js/node_modules/@aws-sdk/client-bedrock-runtime): the
// client's endpoint pointed at the server, static dummy credentials, everything else as a Bedrock user writes it.
// Usage: node bedrock_e2e.mjs SCENARIO BASE_URL JS_DIR HANDLER [OPTIONS_JSON]
//   HANDLER: "http1" (NodeHttpHandler, HTTP/1.1) or "default" (the SDK's own handler: HTTP/2, prior knowledge)
//   OPTIONS_JSON: {"accessKeyId", "secretAccessKey", "token"} to sign or authorize differently; {"model"} to
//   call another model than stories260K-hf.
// Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const [scenario, baseURL, jsDir, handler, optionsJson] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const br = require('@aws-sdk/client-bedrock-runtime');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const options = optionsJson ? JSON.parse(optionsJson) : {};

function makeClient(extra = {}) {
  const config = {
    endpoint: baseURL,
    region: 'us-east-1',
    credentials: { accessKeyId: options.accessKeyId ?? 'AKIDEXAMPLE', secretAccessKey: options.secretAccessKey ?? 'dummy-secret' },
    maxAttempts: 1,
    ...extra,
  };
  if (handler === 'http1') config.requestHandler = new NodeHttpHandler({ requestTimeout: 60000 });
  if (options.token) {
    config.token = { token: options.token };
    config.authSchemePreference = ['httpBearerAuth'];
  }
  return new br.BedrockRuntimeClient(config);
}
const client = makeClient();
const MODEL = options.model ?? 'stories260K-hf';
const ARN = 'arn:aws:bedrock:us-east-1:123456789012:imported-model/' + MODEL;
const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
const dec = (b) => JSON.parse(new TextDecoder().decode(b));

async function invoke(body, modelId = MODEL) {
  const r = await client.send(new br.InvokeModelCommand({ modelId, body: enc(body) }));
  return { r, body: dec(r.body) };
}

// Every chunk of an InvokeModelWithResponseStream, decoded by the SDK, with its arrival time.
async function invokeStream(body, modelId = MODEL) {
  const r = await client.send(new br.InvokeModelWithResponseStreamCommand({ modelId, body: enc(body), contentType: 'application/json' }));
  const chunks = [];
  for await (const ev of r.body) {
    assert.ok(ev.chunk, 'only chunk events: ' + JSON.stringify(Object.keys(ev)));
    chunks.push({ t: performance.now(), json: dec(ev.chunk.bytes) });
  }
  return { r, chunks };
}

async function expectError(fn, type, status) {
  try {
    await fn();
  } catch (e) {
    assert.equal(e.name, type, `${e.name}: ${e.message}`);
    assert.ok(e instanceof br[type], `an instance of the SDK's ${type}`);
    assert.equal(e.$metadata.httpStatusCode, status);
    assert.ok(e.message.length > 0);
    return e;
  }
  assert.fail(`expected ${type}`);
}

const scenarios = {
  // InvokeModel in the three body formats, by name and by ARN; the x-amzn headers.
  async invoke() {
    const prompt = 'Once upon a time';
    const { r, body } = await invoke({ prompt, max_gen_len: 24, temperature: 0 });
    assert.equal(r.contentType, 'application/json');
    assert.equal(typeof body.generation, 'string');
    assert.ok(body.generation.length > 0);
    assert.equal(body.generation_token_count, 24);
    assert.ok(body.prompt_token_count > 0);
    assert.equal(body.stop_reason, 'length');
    assert.ok(r.$metadata.requestId, 'x-amzn-requestid');
    // The same through the ARN, and the same text as /v1/completions gives greedily.
    const byArn = await invoke({ prompt, max_gen_len: 24, temperature: 0 }, ARN);
    assert.equal(byArn.body.generation, body.generation);
    const oa = await (await fetch(baseURL + '/v1/completions', { method: 'POST', headers: { 'Content-Type': 'application/json', ...(options.token ? { Authorization: 'Bearer ' + options.token } : {}) }, body: JSON.stringify({ prompt, max_tokens: 24, temperature: 0 }) })).json();
    assert.equal(oa.choices[0].text, body.generation);

    const c = await invoke({ prompt, max_tokens: 24, temperature: 0 });
    assert.equal(c.body.object, 'text_completion');
    assert.equal(c.body.choices[0].text, body.generation);
    assert.equal(c.body.choices[0].finish_reason, 'length');
    assert.equal(c.body.usage.completion_tokens, 24);

    const m = await invoke({ messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 20, temperature: 0 });
    assert.equal(m.body.object, 'chat.completion');
    const msg = m.body.choices[0].message;
    assert.equal(msg.role, 'assistant');
    // stories260K never writes </think>: the R1 template's output is all reasoning.
    assert.ok(msg.reasoning_content.length > 0, 'reasoning split');
    assert.equal(m.body.usage.completion_tokens, 20);

    // The headers Bedrock sends, read raw.
    const raw = await fetch(`${baseURL}/model/${MODEL}/invoke`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream', ...(options.token ? { Authorization: 'Bearer ' + options.token } : {}) }, body: JSON.stringify({ prompt, max_gen_len: 5 }) });
    if (!options.token && !options.accessKeyId) {
      assert.equal(raw.status, 200);
      assert.equal(raw.headers.get('x-amzn-bedrock-input-token-count'), String(body.prompt_token_count));
      assert.equal(raw.headers.get('x-amzn-bedrock-output-token-count'), '5');
      assert.match(raw.headers.get('x-amzn-bedrock-invocation-latency'), /^\d+$/);
      assert.match(raw.headers.get('x-amzn-requestid'), /^\S+$/);
    }
  },

  // InvokeModelWithResponseStream: chunks decoded by the SDK, arriving one by one, the last with the metrics.
  async stream() {
    const prompt = 'Once upon a time';
    const whole = (await invoke({ prompt, max_gen_len: 200, temperature: 0 })).body;
    const { chunks } = await invokeStream({ prompt, max_gen_len: 200, temperature: 0 });
    assert.ok(chunks.length > 10, `${chunks.length} chunks`);
    assert.equal(chunks.map((c) => c.json.generation).join(''), whole.generation);
    assert.ok(chunks[chunks.length - 1].t > chunks[0].t, 'the first chunk came before the last was written');
    const last = chunks[chunks.length - 1].json;
    assert.equal(last.stop_reason, 'length');
    assert.equal(last.generation_token_count, 200);
    const met = last['amazon-bedrock-invocationMetrics'];
    assert.equal(met.inputTokenCount, whole.prompt_token_count);
    assert.equal(met.outputTokenCount, 200);
    assert.ok(met.invocationLatency >= met.firstByteLatency && met.firstByteLatency >= 0);
    for (const c of chunks.slice(0, -1)) assert.equal(c.json['amazon-bedrock-invocationMetrics'], undefined);

    // OpenAI formats stream OpenAI chunks.
    const chat = await invokeStream({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 16, temperature: 0 });
    assert.equal(chat.chunks[0].json.object, 'chat.completion.chunk');
    const reasoning = chat.chunks.map((c) => c.json.choices[0]?.delta?.reasoning_content ?? '').join('');
    assert.ok(reasoning.length > 0);
    const lc = chat.chunks[chat.chunks.length - 1].json;
    assert.equal(lc.choices[0].finish_reason, 'length');
    assert.equal(lc.usage.completion_tokens, 16);
    assert.equal(lc['amazon-bedrock-invocationMetrics'].outputTokenCount, 16);
    const comp = await invokeStream({ prompt, max_tokens: 24, temperature: 0 });
    assert.equal(comp.chunks.map((c) => c.json.choices[0].text).join(''), whole.generation.slice(0, comp.chunks.map((c) => c.json.choices[0].text).join('').length));
  },

  // Converse and ConverseStream: the reasoning block before the text, stop reasons, usage, metrics.
  async converse() {
    const input = { modelId: ARN, messages: [{ role: 'user', content: [{ text: 'Tell me a story' }] }], system: [{ text: 'You tell stories.' }], inferenceConfig: { maxTokens: 24, temperature: 0 } };
    const r = await client.send(new br.ConverseCommand(input));
    assert.equal(r.output.message.role, 'assistant');
    const blocks = r.output.message.content;
    assert.ok(blocks[0].reasoningContent.reasoningText.text.length > 0, JSON.stringify(blocks));
    assert.equal(r.stopReason, 'max_tokens');
    assert.equal(r.usage.outputTokens, 24);
    assert.ok(r.usage.inputTokens > 0);
    assert.equal(r.usage.totalTokens, r.usage.inputTokens + 24);
    assert.equal(typeof r.metrics.latencyMs, 'number');

    const s = await client.send(new br.ConverseStreamCommand(input));
    const kinds = [];
    let reasoning = '', text = '', stop = null, meta = null;
    for await (const ev of s.stream) {
      const k = Object.keys(ev).filter((x) => ev[x] !== undefined)[0];
      kinds.push(k);
      if (k === 'contentBlockDelta') {
        reasoning += ev.contentBlockDelta.delta.reasoningContent?.text ?? '';
        text += ev.contentBlockDelta.delta.text ?? '';
      }
      if (k === 'messageStop') stop = ev.messageStop.stopReason;
      if (k === 'metadata') meta = ev.metadata;
    }
    assert.equal(kinds[0], 'messageStart');
    assert.deepEqual(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
    assert.ok(kinds.filter((k) => k === 'contentBlockDelta').length > 1);
    assert.equal(reasoning, blocks[0].reasoningContent.reasoningText.text, 'stream and whole agree (greedy)');
    assert.equal(text, blocks[1]?.text ?? '');
    assert.equal(stop, 'max_tokens');
    assert.deepEqual(meta.usage, r.usage);
    assert.equal(typeof meta.metrics.latencyMs, 'number');

    // A stop sequence found in the greedy reasoning ends the turn with stop_sequence.
    const t = blocks[0].reasoningContent.reasoningText.text;
    const seq = t.slice(8, 12);
    const st = await client.send(new br.ConverseCommand({ ...input, inferenceConfig: { ...input.inferenceConfig, stopSequences: [seq] } }));
    assert.equal(st.stopReason, 'stop_sequence');
    assert.equal(st.output.message.content[0].reasoningContent.reasoningText.text, t.slice(0, t.indexOf(seq)));
  },

  // Every refusal as the SDK's typed exception.
  async errors() {
    await expectError(() => invoke({ prompt: 'x' }, 'no-such-model'), 'ResourceNotFoundException', 404);
    await expectError(() => invoke({ prompt: 'x' }, 'arn:aws:bedrock:us-east-1:1:imported-model/other'), 'ResourceNotFoundException', 404);
    await expectError(() => invoke({ nothing: 1 }), 'ValidationException', 400);
    await expectError(() => invoke({ prompt: 'x', max_gen_len: 'ten' }), 'ValidationException', 400);
    await expectError(() => invoke({ prompt: 'x', max_gen_len: 5, bogus: true }), 'ValidationException', 400);
    await expectError(() => client.send(new br.InvokeModelCommand({ modelId: MODEL, body: new TextEncoder().encode('{not json') })), 'ValidationException', 400);
    await expectError(() => client.send(new br.ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: new Uint8Array([1]) } } }] }] })), 'ValidationException', 400);
    await expectError(() => client.send(new br.ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }], inferenceConfig: { maxTokens: 100000000 } })), 'ValidationException', 400);
    await expectError(() => client.send(new br.ConverseStreamCommand({ modelId: 'nope', messages: [{ role: 'user', content: [{ text: 'x' }] }] })), 'ResourceNotFoundException', 404);
    await expectError(() => client.send(new br.InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: enc({ temperature: 1 }) })), 'ValidationException', 400);
  },

  // The request is refused for its credentials.
  async denied() {
    await expectError(() => invoke({ prompt: 'x', max_gen_len: 2 }), 'AccessDeniedException', 403);
    await expectError(() => client.send(new br.ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }] })), 'AccessDeniedException', 403);
  },

  // The credentials are right: a short call of each kind succeeds.
  async allowed() {
    const { body } = await invoke({ prompt: 'Once', max_gen_len: 3 });
    assert.equal(body.generation_token_count, 3);
    const { chunks } = await invokeStream({ prompt: 'Once', max_gen_len: 3 }, ARN);
    assert.equal(chunks[chunks.length - 1].json.generation_token_count, 3);
    const c = await client.send(new br.ConverseCommand({ modelId: ARN, messages: [{ role: 'user', content: [{ text: 'x' }] }], inferenceConfig: { maxTokens: 3 } }));
    assert.equal(c.usage.outputTokens, 3);
  },

  // Signed with a clock 20 minutes off (the SDK's systemClockOffset): refused as AWS refuses it, 403
  // InvalidSignatureException ("Signature expired" / "Signature not yet current"); the SDK then corrects its
  // clock from the response's Date header, and with retries allowed its own retry succeeds.
  async skew() {
    for (const offset of [-20 * 60_000, 20 * 60_000]) {
      const skewed = makeClient({ systemClockOffset: offset });
      try {
        await skewed.send(new br.InvokeModelCommand({ modelId: MODEL, body: enc({ prompt: 'Once', max_gen_len: 2 }) }));
        assert.fail('a signature 20 minutes off was accepted');
      } catch (e) {
        assert.equal(e.name, 'InvalidSignatureException', `${e.name}: ${e.message}`);
        assert.ok(e instanceof br.BedrockRuntimeServiceException);
        assert.equal(e.$metadata.httpStatusCode, 403);
        assert.match(e.message, offset < 0 ? /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/
          : /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/);
      }
      assert.ok(Math.abs(skewed.config.systemClockOffset) < 60_000, `corrected from Date: ${skewed.config.systemClockOffset}`);
      const again = await skewed.send(new br.InvokeModelCommand({ modelId: MODEL, body: enc({ prompt: 'Once', max_gen_len: 2 }) }));
      assert.equal(dec(again.body).generation_token_count, 2);
      skewed.destroy();
    }
    // Fourteen minutes off is within AWS's window.
    const near = makeClient({ systemClockOffset: -14 * 60_000 });
    const r = await near.send(new br.InvokeModelCommand({ modelId: MODEL, body: enc({ prompt: 'Once', max_gen_len: 2 }) }));
    assert.equal(dec(r.body).generation_token_count, 2);
    near.destroy();
    const retrying = makeClient({ systemClockOffset: -20 * 60_000, maxAttempts: 3 });
    const ok = await retrying.send(new br.InvokeModelCommand({ modelId: MODEL, body: enc({ prompt: 'Once', max_gen_len: 2 }) }));
    assert.equal(ok.$metadata.attempts, 2, 'the SDK retried once with its corrected clock');
    retrying.destroy();
  },

  // The model is still loading: ModelNotReadyException (429), which the SDK counts as retryable.
  async notready() {
    const e = await expectError(() => invoke({ prompt: 'x', max_gen_len: 2 }), 'ModelNotReadyException', 429);
    assert.equal(e.$retryable !== undefined, true, 'the SDK marks it retryable');
    await expectError(() => client.send(new br.ConverseCommand({ modelId: ARN, messages: [{ role: 'user', content: [{ text: 'x' }] }] })), 'ModelNotReadyException', 429);
  },

  // A cold start: the SDK's own retries (maxAttempts raised, as Bedrock's docs advise) turn
  // ModelNotReadyException into a success once the model is up.
  async coldstart() {
    const patient = makeClient({ maxAttempts: 12 });
    const r = await patient.send(new br.InvokeModelCommand({ modelId: MODEL, body: enc({ prompt: 'Once', max_gen_len: 3 }) }));
    assert.equal(dec(r.body).generation_token_count, 3);
    assert.ok(r.$metadata.attempts > 1, `retried (${r.$metadata.attempts} attempts)`);
    assert.ok(r.$metadata.totalRetryDelay > 0);
    patient.destroy();
  },

  // A model whose files were corrupted after the server started: the first attempt starts its load and gets
  // ModelNotReadyException; the SDK retries (maxAttempts raised) and gets the failed load as ModelErrorException
  // 424, which it does not retry, naming the file and the problem. options.file: a text the message must hold.
  async modelerror() {
    const patient = makeClient({ maxAttempts: 12 });
    const e = await expectError(() => patient.send(new br.InvokeModelCommand({ modelId: ARN, body: enc({ prompt: 'Once', max_gen_len: 3 }) })), 'ModelErrorException', 424);
    assert.ok(e.message.includes(options.file), e.message);
    assert.ok(e.message.includes(`\`${MODEL}\` could not be loaded`), e.message);
    assert.ok(e.$metadata.attempts > 1, `the first attempt was told to retry (${e.$metadata.attempts} attempts)`);
    // The next request tries the load again (the files may have been fixed) and learns the same.
    const c = await expectError(() => patient.send(new br.ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }] })), 'ModelErrorException', 424);
    assert.ok(c.message.includes(options.file), c.message);
    patient.destroy();
  },

  // Over the server's --request-timeout (options.timeoutSeconds): InvokeModel gets ModelTimeoutException 408;
  // a stream gets its chunks and then the modelTimeoutException event, which the SDK throws as the typed
  // exception; Converse 408; ConverseStream (whose union has no timeout member) a ModelStreamErrorException.
  async timeout() {
    const body = { prompt: 'Once upon a time', max_gen_len: 400, temperature: 0 };
    const t0 = performance.now();
    const e = await expectError(() => invoke(body), 'ModelTimeoutException', 408);
    assert.ok(e.message.includes('--request-timeout'), e.message);
    assert.ok(performance.now() - t0 >= options.timeoutSeconds * 1000, 'not before the timeout');
    let chunks = 0;
    try {
      const r = await client.send(new br.InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: enc(body) }));
      for await (const ev of r.body) {
        assert.ok(ev.chunk, JSON.stringify(Object.keys(ev)));
        chunks++;
      }
      assert.fail('the stream ended without the timeout');
    } catch (err) {
      assert.equal(err.name, 'ModelTimeoutException', `${err.name}: ${err.message}`);
      assert.ok(err instanceof br.ModelTimeoutException);
      assert.ok(err.message.includes('--request-timeout'), err.message);
    }
    assert.ok(chunks > 0, 'chunks arrived before the timeout');
    const messages = [{ role: 'user', content: [{ text: 'Tell me a story' }] }];
    const inferenceConfig = { maxTokens: 400, temperature: 0 };
    await expectError(() => client.send(new br.ConverseCommand({ modelId: MODEL, messages, inferenceConfig })), 'ModelTimeoutException', 408);
    try {
      const r = await client.send(new br.ConverseStreamCommand({ modelId: MODEL, messages, inferenceConfig }));
      for await (const ev of r.stream) assert.ok(!ev.messageStop, 'no messageStop after a timeout');
      assert.fail('the stream ended without an exception');
    } catch (err) {
      assert.equal(err.name, 'ModelStreamErrorException', `${err.name}: ${err.message}`);
      assert.ok(err.message.includes('--request-timeout'), err.message);
    }
  },

  // The server is draining: ServiceUnavailableException (503).
  async unavailable() {
    await expectError(() => invoke({ prompt: 'x', max_gen_len: 2 }), 'ServiceUnavailableException', 503);
    await expectError(() => client.send(new br.ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }] })), 'ServiceUnavailableException', 503);
  },

  // Over --max-concurrent-requests 1: while a long generation holds the one slot (64 streamed OpenAI completions
  // of up to 500 tokens, read until their first chunk), Bedrock calls are throttled.
  async throttled() {
    const abort = new AbortController();
    const long = await fetch(baseURL + '/v1/completions', { method: 'POST', signal: abort.signal, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: ['Once', 'A dog', 'The cat', 'Lily'], n: 16, max_tokens: 500, temperature: 1, stream: true }) });
    assert.equal(long.status, 200);
    const reader = long.body.getReader();
    await reader.read();
    await expectError(() => invoke({ prompt: 'x', max_gen_len: 2 }), 'ThrottlingException', 429);
    await expectError(() => client.send(new br.ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }] })), 'ThrottlingException', 429);
    abort.abort();
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
