// A bounded load test against a running r1serve: 64 concurrent streaming requests of mixed lengths (chat and
// completions), some clients disconnecting mid-stream, some over the limits. Then the server must be idle
// again with no KV blocks held. Usage: node load_e2e.mjs BASE_URL JS_DIR [h2]. With h2, every request is a
// stream of one HTTP/2 cleartext connection (Node's http2 module). Prints a JSON summary.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { h2Fetch } from './h2_fetch.mjs';

const [baseURL, jsDir, transport] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const OpenAI = require('openai');
const h2 = transport === 'h2' ? h2Fetch(baseURL) : null;
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, timeout: 120000, ...(h2 ? { fetch: h2 } : {}) });
const model = (await client.models.list()).data[0].id;

const tally = { completed: 0, disconnected: 0, rejected_400: 0, rejected_429: 0, over_limit_429: 0, tokens: 0 };
const lengths = [4, 8, 16, 32, 64, 96];

async function one(i) {
  const overLimit = i % 10 === 9;
  const disconnect = i % 8 === 3;
  const chat = i % 2 === 0;
  const max_tokens = overLimit ? 100000 : lengths[i % lengths.length];
  const controller = new AbortController();
  const params = { model, max_tokens, temperature: 0.8, seed: i, stream: true, stream_options: { include_usage: true } };
  try {
    const stream = chat
      ? await client.chat.completions.create({ ...params, messages: [{ role: 'user', content: `Story ${i}` }] }, { signal: controller.signal })
      : await client.completions.create({ ...params, prompt: `Once upon a time ${i}`, ignore_eos: true }, { signal: controller.signal });
    let chunks = 0, usage = null, finish = null;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) if (c.finish_reason) finish = c.finish_reason;
      if (disconnect && chunks === 3) {
        controller.abort();
        break;
      }
    }
    if (disconnect && chunks >= 3) {
      tally.disconnected++;
      return;
    }
    assert.ok(usage, `request ${i}: usage chunk`);
    assert.ok(['stop', 'length'].includes(finish), `request ${i}: finish ${finish}`);
    if (!chat) assert.equal(usage.completion_tokens, max_tokens, `request ${i}: ignore_eos runs to max_tokens`);
    tally.tokens += usage.completion_tokens;
    tally.completed++;
  } catch (e) {
    if (e.name === 'AbortError' || e instanceof OpenAI.APIUserAbortError) {
      tally.disconnected++;
    } else if (e.status === 400 && overLimit) {
      tally.rejected_400++;
    } else if (e.status === 429) {
      // The concurrency check comes first: an over-limit request that arrives while the server is full is
      // refused with 429 before its length is looked at.
      if (overLimit) tally.over_limit_429++;
      else tally.rejected_429++;
    } else {
      throw new Error(`request ${i} (chat=${chat}, max_tokens=${max_tokens}): ${e.status} ${e.message}`);
    }
  }
}

const t0 = Date.now();
await Promise.all(Array.from({ length: 64 }, (_, i) => one(i)));
tally.seconds = (Date.now() - t0) / 1000;
assert.equal(tally.rejected_400 + tally.over_limit_429, 6, 'every over-limit request is refused (400, or 429 when full)');
assert.ok(tally.completed > 0);

// The server goes idle and frees every block (aborted ones included).
const metric = (text, name) => {
  const line = text.split('\n').find((l) => l.startsWith(name + '{'));
  return line === undefined ? NaN : Number(line.split(' ').pop());
};
let idle = false, m = '';
for (let i = 0; i < 200 && !idle; i++) {
  m = await (await fetch(baseURL + '/metrics')).text();
  idle = metric(m, 'vllm:num_requests_running') === 0 && metric(m, 'vllm:num_requests_waiting') === 0 &&
    metric(m, 'vllm:kv_cache_usage_perc') === 0;
  if (!idle) await new Promise((r) => setTimeout(r, 100));
}
assert.ok(idle, 'server idle with KV usage 0 after the load:\n' + m);
const aborts = m.split('\n').find((l) => l.startsWith('vllm:request_success_total') && l.includes('finished_reason="abort"'));
tally.engine_aborts = Number(aborts.split(' ').pop());
// On the idle server an over-limit request is refused with 400 naming the limit.
await assert.rejects(client.completions.create({ model, prompt: 'Once', max_tokens: 100000 }),
  (e) => e.status === 400 && /max_total_tokens|maximum|limit/i.test(e.message));
// A fresh request still works.
const after = await client.completions.create({ model, prompt: 'Once', max_tokens: 4 });
assert.equal(after.choices.length, 1);
if (h2) h2.close();
console.log(JSON.stringify(tally));
