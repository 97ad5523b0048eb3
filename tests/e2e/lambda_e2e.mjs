// `r1serve lambda` against the Runtime API double (lambda_runtime_double.mjs), invoked with the real
// @aws-sdk/client-lambda (Invoke, endpoint pointed at the double, static dummy credentials).
// Usage: node lambda_e2e.mjs SCENARIO R1SERVE JS_DIR MODEL_DIR CHAT_TEMPLATE
//   invocations: a {"prompt"} event, Function URL events (OpenAI chat, GET /v1/models, a 404), an event
//                past its deadline, a malformed event (an /error post, then the loop goes on)
//   init-error:  a missing model folder → POST /runtime/init/error, a non-zero exit, Invoke reports it
// Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { RuntimeApiDouble } from './lambda_runtime_double.mjs';

const [scenario, r1serve, jsDir, modelDir, chatTemplate] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

const double = new RuntimeApiDouble();
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

function startRuntime(model) {
  const args = ['lambda', '--model', model, '--chat-template', chatTemplate, '--kv-cache-memory', '64MiB',
                '--threads', '1', '--deadline-margin-ms', '1000'];
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
