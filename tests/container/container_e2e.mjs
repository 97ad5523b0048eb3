// The r1serve container from the host, through its published loopback port: /health, a chat completion with
// the openai client, /metrics; then, with a stream in flight, `podman stop` (SIGTERM, then a grace period)
// must let the stream finish with its final chunk before the container exits.
// Usage: node container_e2e.mjs BASE_URL JS_DIR CONTAINER|- [GRACE_S] (- : no stop, as for a kube play pod).
// Exits non-zero on the first failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const [baseURL, jsDir, container, grace = '30'] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const OpenAI = require('openai');
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0 });

const health = await fetch(baseURL + '/health');
assert.equal(health.status, 200);

const model = (await client.models.list()).data[0].id;
const chat = { model, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 24, temperature: 0 };
const answer = await client.chat.completions.create(chat);
assert.equal(answer.usage.completion_tokens, 24);
const message = answer.choices[0].message;
assert.ok((message.content ?? '').length + (message.reasoning_content ?? '').length > 0);

const metrics = await (await fetch(baseURL + '/metrics')).text();
assert.match(metrics, /^vllm:num_requests_waiting/m);
assert.match(metrics, /^vllm:generation_tokens_total\S* [1-9]/m);

if (container === '-') {
  console.log('container ok');
  process.exit(0);
}

// SIGTERM while a stream is in flight: the stream still ends properly (finish_reason, usage, [DONE]).
const stream = await client.chat.completions.create({
  ...chat, max_tokens: 400, ignore_eos: true, stream: true, stream_options: { include_usage: true },
});
let stopped = null, chunks = 0, finish = null, usage = null;
for await (const c of stream) {
  chunks++;
  if (!stopped) {
    stopped = new Promise((resolve) => {
      const p = spawn('podman', ['stop', '-t', grace, container], { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', resolve);
    });
  }
  if (c.usage) usage = c.usage;
  for (const ch of c.choices) if (ch.finish_reason) finish = ch.finish_reason;
}
assert.equal(finish, 'length', `the stream ended without its final chunk after ${chunks} chunks`);
assert.equal(usage?.completion_tokens, 400);
assert.equal(await stopped, 0, 'podman stop failed');
console.log(`container ok: ${chunks} chunks streamed across SIGTERM`);
