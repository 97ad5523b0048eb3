// TLS end to end: the openai client trusting the test's CA completes a chat (streaming too) over HTTPS, a
// client trusting another CA is refused, ALPN gives HTTP/2 to Node's http2 client, and plain HTTP on the TLS
// port gets no answer. With MTLS_DIR (the server started with --ssl-ca-certs) a client without a certificate
// is refused and one with the CA's client certificate is served.
// Usage: node tls_e2e.mjs BASE_URL JS_DIR CERT_DIR [mtls]. Exits non-zero on the first failure.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';

const [baseURL, jsDir, certDir, mode] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const OpenAI = require('openai');
const read = (name) => readFileSync(`${certDir}/${name}`);
const ca = read('ca.pem');
const mtls = mode === 'mtls';
const clientCert = mtls ? { cert: read('client.pem'), key: read('client-key.pem') } : {};

const client = (agent) => new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, httpAgent: agent });
// keepAlive: several requests over one TLS connection (the server reads between them).
const trusted = client(new https.Agent({ ca, keepAlive: true, ...clientCert }));

const model = (await trusted.models.list()).data[0].id;
const chat = { model, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 24, temperature: 0 };
const whole = await trusted.chat.completions.create(chat);
assert.equal(whole.usage.completion_tokens, 24);

let text = '', finish = null, chunks = 0;
const stream = await trusted.chat.completions.create({ ...chat, stream: true });
for await (const c of stream) {
  chunks++;
  for (const ch of c.choices) {
    text += (ch.delta.reasoning_content ?? '') + (ch.delta.content ?? '');
    if (ch.finish_reason) finish = ch.finish_reason;
  }
}
assert.ok(chunks > 10, `streamed ${chunks} chunks`);
assert.equal(finish, 'length');
assert.ok(text.length > 0);

// A client that trusts another CA must not complete a request.
const wrong = client(new https.Agent({ ca: read('wrong-ca.pem'), ...clientCert }));
await assert.rejects(wrong.models.list(), (e) => {
  assert.match(String(e.cause?.code ?? e.cause?.message ?? e.message), /CERT|certificate|self.signed|verify/i);
  return true;
});

if (mtls) {
  // A client with no certificate fails the handshake (or has its request dropped right after it).
  const anonymous = client(new https.Agent({ ca }));
  await assert.rejects(anonymous.models.list());
}

// HTTP/2 through ALPN: the same chat over Node's http2 client.
{
  const session = http2.connect(baseURL, { ca, ...clientCert });
  const alpn = await new Promise((resolve, reject) => {
    session.once('connect', () => resolve(session.alpnProtocol));
    session.once('error', reject);
  });
  assert.equal(alpn, 'h2');
  const req = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
  req.end(JSON.stringify(chat));
  let body = '', status = 0;
  req.on('response', (h) => { status = h[':status']; });
  req.setEncoding('utf8');
  for await (const part of req) body += part;
  assert.equal(status, 200);
  const got = JSON.parse(body);
  assert.equal(got.usage.completion_tokens, 24);
  assert.deepEqual(got.choices, whole.choices);
  session.close();
}

// Plain HTTP to the TLS port: no HTTP answer.
{
  const plain = baseURL.replace('https:', 'http:') + '/health';
  const outcome = await new Promise((resolve) => {
    const r = http.get(plain, { timeout: 5000 }, (res) => resolve(`answered ${res.statusCode}`));
    r.on('error', (e) => resolve(`error ${e.code}`));
    r.on('timeout', () => { r.destroy(); resolve('timeout'); });
  });
  assert.ok(!outcome.startsWith('answered'), outcome);
}
console.log('tls ok');
