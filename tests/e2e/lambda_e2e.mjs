// `r1serve lambda` against the Runtime API double (lambda_runtime_double.mjs), invoked with the real
// @aws-sdk/client-lambda (Invoke, endpoint pointed at the double, static dummy credentials).
// Usage: node lambda_e2e.mjs SCENARIO R1SERVE JS_DIR MODEL_DIR CHAT_TEMPLATE [TOKENIZER_DIR]
//   invocations: a {"prompt"} event, Function URL events (OpenAI chat, GET /v1/models, a 404), an event
//                past its deadline, a malformed event (an /error post, then the loop goes on)
//   init-error:  a missing model folder → POST /runtime/init/error, a non-zero exit, Invoke reports it
//   streaming:   --invoke-mode RESPONSE_STREAM: a Function URL chat with stream:true answered as a streamed
//                /response (HTTP integration prelude, 8 NUL bytes, SSE) that InvokeWithResponseStream
//                delivers in pieces; the deadline still cuts it with finish_reason "length"
// Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { RuntimeApiDouble } from './lambda_runtime_double.mjs';

const [scenario, r1serve, jsDir, modelDir, chatTemplate, tokenizerDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const { LambdaClient, InvokeCommand, InvokeWithResponseStreamCommand } = require('@aws-sdk/client-lambda');

const double = new RuntimeApiDouble(jsDir);
const port = await double.start();
const client = new LambdaClient({
  endpoint: `http://127.0.0.1:${port}`,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' },
  maxAttempts: 1,
});

async function invoke(event) {
  const Payload = new TextEncoder().encode(typeof event === 'string' ? event : JSON.stringify(event));
  const r = await client.send(new InvokeCommand({ FunctionName: 'function', Payload }));
  const text = new TextDecoder().decode(r.Payload);
  return { r, text, body: JSON.parse(text) };
}

function startRuntime(model, extra = []) {
  const args = ['lambda', '--model', model, '--chat-template', chatTemplate, '--kv-cache-memory', '64MiB',
                '--threads', '1', '--deadline-margin-ms', '1000', ...(tokenizerDir ? ['--tokenizer', tokenizerDir] : []),
                ...extra];
  const child = spawn(r1serve, args, { env: { ...process.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}` },
                                       stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return { child, exited, log: () => log };
}

const functionUrlEvent = (method, rawPath, body, base64 = false) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath,
  rawQueryString: '',
  headers: { 'content-type': 'application/json', host: 'abc.lambda-url.us-east-1.on.aws' },
  requestContext: { http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' }, requestId: 'r' },
  ...(body === undefined ? {} : { body: base64 ? Buffer.from(body).toString('base64') : body }),
  isBase64Encoded: base64,
});

let rt;
try {
  if (scenario === 'invocations') {
    rt = startRuntime(modelDir);

    // The seeds' event: the answer apart from R1's reasoning (a budget of 8 thinking tokens, then the answer).
    const p = await invoke({ prompt: 'Once upon a time', max_tokens: 40, temperature: 0, max_reasoning_tokens: 8 });
    assert.equal(p.r.StatusCode, 200);
    assert.equal(p.r.FunctionError, undefined, p.text);
    assert.equal(typeof p.body.response, 'string', p.text);
    assert.equal(typeof p.body.reasoning, 'string', p.text);
    assert.ok(p.body.reasoning.length > 0 && p.body.response.length > 0, p.text);
    assert.ok(!p.body.response.includes('</think>'), p.text);
    assert.ok(['stop', 'length'].includes(p.body.finish_reason), p.text);
    assert.ok(p.body.usage.completion_tokens > 0 && p.body.usage.completion_tokens <= 40, p.text);
    // Greedy: the same event, the same answer.
    const again = await invoke({ prompt: 'Once upon a time', max_tokens: 40, temperature: 0, max_reasoning_tokens: 8 });
    assert.equal(again.body.response, p.body.response);

    // A Function URL event carrying an OpenAI chat body (base64, as Function URLs send binary-safe bodies).
    const chatBody = JSON.stringify({ model: 'stories260K-hf', messages: [{ role: 'user', content: 'Tell me a story' }],
                                      max_tokens: 24, temperature: 0 });
    const c = await invoke(functionUrlEvent('POST', '/v1/chat/completions', chatBody, true));
    assert.equal(c.r.FunctionError, undefined, c.text);
    assert.equal(c.body.statusCode, 200, c.text);
    assert.match(c.body.headers['content-type'], /application\/json/);
    assert.equal(c.body.isBase64Encoded, false);
    const chat = JSON.parse(c.body.body);
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.choices[0].message.role, 'assistant');
    assert.ok(chat.usage.completion_tokens > 0 && chat.usage.completion_tokens <= 24);
    // The same body as plain text, streamed by the server (SSE) and gathered whole in a buffered response.
    const s = await invoke(functionUrlEvent('POST', '/v1/chat/completions',
                                            JSON.stringify({ ...JSON.parse(chatBody), stream: true })));
    assert.equal(s.body.statusCode, 200, s.text);
    assert.match(s.body.headers['content-type'], /text\/event-stream/);
    assert.ok(s.body.body.trimEnd().endsWith('data: [DONE]'), s.body.body);
    // Any other route: GET /v1/models, and a 404 with the server's error.
    const models = await invoke(functionUrlEvent('GET', '/v1/models'));
    assert.equal(models.body.statusCode, 200, models.text);
    assert.equal(JSON.parse(models.body.body).data[0].id, 'stories260K-hf');
    const missing = await invoke(functionUrlEvent('GET', '/no/such/route'));
    assert.equal(missing.body.statusCode, 404, missing.text);
    assert.ok(missing.body.headers['x-request-id']);

    // An event past its deadline (the function's timeout is shorter than the runtime's margin): the answer
    // comes at once, before the deadline, with what it has and finish_reason "length" — never a timeout.
    double.timeoutMs = 900;
    const d = await invoke({ prompt: 'Once upon a time', max_tokens: 300, temperature: 0, ignore_eos: true });
    double.timeoutMs = 30000;
    assert.equal(d.r.FunctionError, undefined, d.text);
    assert.equal(d.body.finish_reason, 'length', d.text);
    assert.ok(d.body.usage.completion_tokens < 300, d.text);
    const post = double.posts.at(-1);
    assert.equal(post.kind, 'response');
    assert.ok(post.t < post.deadline, `posted at ${post.t}, deadline ${post.deadline}`);

    // Malformed events: each gets an /error post with {errorMessage, errorType}, and the loop goes on.
    for (const bad of ['not json', '[1, 2]', { hello: 'world' }, { prompt: 42 },
                       { version: '2.0', rawPath: '/v1/models', requestContext: {} }]) {
      const e = await invoke(bad);
      assert.equal(e.r.FunctionError, 'Unhandled', e.text);
      assert.equal(e.body.errorType, 'InvalidEvent', e.text);
      assert.equal(typeof e.body.errorMessage, 'string');
      assert.equal(double.posts.at(-1).kind, 'error');
    }
    // A well-formed event the server refuses: its error type and message.
    const refused = await invoke({ prompt: 'hi', temperature: -3 });
    assert.equal(refused.r.FunctionError, 'Unhandled', refused.text);
    assert.equal(refused.body.errorType, 'invalid_request_error', refused.text);
    const after = await invoke({ prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    assert.equal(after.r.FunctionError, undefined, after.text);
    assert.equal(typeof after.body.response, 'string');
    console.log('invocations ok');
  } else if (scenario === 'streaming') {
    rt = startRuntime(modelDir, ['--invoke-mode', 'response_stream']);
    // Every piece of an InvokeWithResponseStream, decoded by the SDK, with its arrival time.
    const invokeStream = async (event) => {
      const Payload = new TextEncoder().encode(JSON.stringify(event));
      const r = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: 'function', Payload }));
      assert.equal(r.StatusCode, 200);
      const pieces = [];
      let complete;
      for await (const ev of r.EventStream) {
        if (ev.PayloadChunk) pieces.push({ t: performance.now(), bytes: Buffer.from(ev.PayloadChunk.Payload) });
        if (ev.InvokeComplete) complete = ev.InvokeComplete;
      }
      assert.ok(complete, 'an InvokeComplete event');
      assert.equal(complete.ErrorCode, undefined, JSON.stringify(complete));
      // The HTTP integration response: JSON prelude, eight NUL bytes, the body.
      const all = Buffer.concat(pieces.map((p) => p.bytes));
      const nul = all.indexOf(Buffer.alloc(8));
      assert.ok(nul > 0, 'a prelude and its 8 NUL bytes: ' + all.toString());
      return { pieces, prelude: JSON.parse(all.subarray(0, nul).toString()), body: all.subarray(nul + 8).toString() };
    };
    const sse = (body) => body.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)));
    const chat = (extra) => functionUrlEvent('POST', '/v1/chat/completions', JSON.stringify({
      model: 'stories260K-hf', messages: [{ role: 'user', content: 'Tell me a story' }], temperature: 0, stream: true,
      ...extra }));

    const s = await invokeStream(chat({ max_tokens: 64, ignore_eos: true }));
    assert.equal(s.prelude.statusCode, 200, JSON.stringify(s.prelude));
    assert.match(s.prelude.headers['content-type'], /text\/event-stream/);
    assert.ok(s.pieces.length >= 3, `the answer arrived in ${s.pieces.length} pieces`);
    // The prelude went out before the tokens: the first piece ends with the NUL delimiter or holds no token yet.
    assert.ok(!Buffer.concat([s.pieces[0].bytes]).toString().includes('"finish_reason":"length"'));
    const events = sse(s.body);
    assert.ok(s.body.trimEnd().endsWith('data: [DONE]'), s.body);
    assert.equal(events.at(-1).choices[0].finish_reason, 'length');
    const text = events.map((e) => (e.choices[0].delta.content ?? '') + (e.choices[0].delta.reasoning_content ?? '')).join('');
    assert.ok(text.length > 0);
    const post = double.posts.at(-1);
    assert.ok(post.streamed && post.chunked, 'a chunked /response with Lambda-Runtime-Function-Response-Mode: streaming');
    assert.equal(post.contentType, 'application/vnd.awslambda.http-integration-response');
    assert.ok(post.pieces.length >= 3, `the runtime posted ${post.pieces.length} pieces`);

    // A non-streamed route through the same function: the whole answer after the prelude.
    const models = await invokeStream(functionUrlEvent('GET', '/v1/models'));
    assert.equal(models.prelude.statusCode, 200);
    assert.equal(JSON.parse(models.body).data[0].id, 'stories260K-hf');
    const missing = await invokeStream(functionUrlEvent('GET', '/no/such/route'));
    assert.equal(missing.prelude.statusCode, 404);

    // Past the deadline (the function's timeout shorter than the runtime's margin): the stream still ends
    // properly, at once, with finish_reason "length" and fewer tokens than asked.
    double.timeoutMs = 900;
    const d = await invokeStream(chat({ max_tokens: 300, ignore_eos: true, stream_options: { include_usage: true } }));
    double.timeoutMs = 30000;
    const devents = sse(d.body);
    const last = devents.filter((e) => e.choices.length).at(-1);
    assert.equal(last.choices[0].finish_reason, 'length', d.body);
    assert.ok(devents.at(-1).usage.completion_tokens < 300, d.body);
    const dpost = double.posts.at(-1);
    assert.ok(dpost.t < dpost.deadline, `posted at ${dpost.t}, deadline ${dpost.deadline}`);

    // A {"prompt"} event stays a buffered answer; a malformed event an /error post.
    const p = await invoke({ prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    assert.equal(typeof p.body.response, 'string', p.text);
    const bad = await invoke({ version: '2.0', rawPath: '/v1/models', requestContext: {} });
    assert.equal(bad.body.errorType, 'InvalidEvent', bad.text);
    console.log('streaming ok');
  } else if (scenario === 'init-error') {
    rt = startRuntime(modelDir + '/no-such-model');
    const code = await rt.exited;
    assert.notEqual(code, 0, rt.log());
    assert.ok(double.initError, 'no POST /runtime/init/error; log:\n' + rt.log());
    const err = JSON.parse(double.initError.body);
    assert.equal(typeof err.errorMessage, 'string');
    assert.match(err.errorMessage, /no-such-model/);
    assert.equal(typeof err.errorType, 'string');
    // Invoke after a failed init reports the init error, as Lambda does.
    const e = await invoke({ prompt: 'hi' });
    assert.equal(e.r.FunctionError, 'Unhandled');
    assert.equal(e.body.errorType, err.errorType);
    console.log('init-error ok');
  } else {
    throw new Error('unknown scenario ' + scenario);
  }
} catch (e) {
  if (rt) console.error('--- runtime log ---\n' + rt.log());
  throw e;
} finally {
  if (rt && rt.child.exitCode === null) rt.child.kill('SIGKILL');
  double.close();
}
