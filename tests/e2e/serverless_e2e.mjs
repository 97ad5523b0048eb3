// The official openai npm client against a model that is not loaded yet (r1serve --load-wait 0): the 503
// model_not_ready arrives as an APIError carrying Retry-After, and the client's own retries (which honour
// Retry-After) get the answer once the model has loaded.
// Usage: node serverless_e2e.mjs BASE_URL JS_DIR MODEL_A MODEL_B. Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const [baseURL, jsDir, modelA, modelB] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const OpenAI = require('openai');

// Without retries: the error as the application sees it.
const once = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 0, timeout: 60000 });
try {
  await once.completions.create({ model: modelA, prompt: 'Once upon a time', max_tokens: 4 });
  assert.fail('expected 503 model_not_ready for a model that is not loaded');
} catch (e) {
  assert.ok(e instanceof OpenAI.APIError, String(e));
  assert.equal(e.status, 503);
  assert.equal(e.code, 'model_not_ready');
  assert.equal(e.type, 'service_unavailable_error');
  assert.match(e.message, new RegExp('`' + modelA + '`'));
  const retryAfter = Number(e.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, 'Retry-After: ' + e.headers['retry-after']);
}

// With the client's built-in retries, counting the attempts through its fetch hook.
const statuses = [];
const retrying = new OpenAI({
  baseURL: baseURL + '/v1', apiKey: 'none', maxRetries: 5, timeout: 60000,
  fetch: async (url, init) => {
    const r = await fetch(url, init);
    statuses.push(r.status);
    return r;
  },
});
const c = await retrying.completions.create({ model: modelB, prompt: 'Once upon a time', max_tokens: 4, temperature: 0 });
assert.equal(c.choices.length, 1);
assert.equal(c.usage.completion_tokens, 4);
assert.equal(statuses[0], 503, 'the first attempt found the model unloaded: ' + statuses);
assert.equal(statuses.at(-1), 200, String(statuses));

// The models list shows both, with their state.
const list = await retrying.models.list();
const byId = Object.fromEntries(list.data.map((m) => [m.id, m]));
assert.equal(byId[modelB].state, 'loaded');
assert.ok(['loading', 'loaded'].includes(byId[modelA].state), byId[modelA].state);
console.log('ok', statuses.join(','));
