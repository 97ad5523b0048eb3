// Drives a running r1serve through TGI's own API: the real Hugging Face client
// (tests/js/node_modules/@huggingface/inference, whose textGeneration / textGenerationStream with an
// endpointUrl call TGI's POST /), and raw HTTP for /generate, /generate_stream and /info.
// Usage: node tgi_e2e.mjs SCENARIO BASE_URL JS_DIR [OPTIONS_JSON]
//   OPTIONS_JSON: {"apiKey"} for a server started with --api-key.
// Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const [scenario, baseURL, jsDir, optionsJson] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const hf = require('@huggingface/inference');
const options = optionsJson ? JSON.parse(optionsJson) : {};
const auth = options.apiKey ? { Authorization: 'Bearer ' + options.apiKey } : {};
const PROMPT = 'Once upon a time';

async function post(path, body, headers = {}) {
  const r = await fetch(baseURL + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth, ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', text, headers: r.headers };
}
const json = (r) => JSON.parse(r.text);
// The JSON of every `data:` event of an SSE body.
const events = (text) => text.split('\n\n').filter((e) => e.startsWith('data:')).map((e) => JSON.parse(e.slice(5)));

function checkToken(t) {
  assert.equal(typeof t.id, 'number');
  assert.equal(typeof t.text, 'string');
  assert.equal(typeof t.logprob, 'number');
  assert.ok(t.logprob <= 0, JSON.stringify(t));
  assert.equal(typeof t.special, 'boolean');
}
const FINISH = ['length', 'eos_token', 'stop_sequence'];

// A stream's events: tokens numbered from 1, every one but the last without text or details.
function checkStream(evs, { details }) {
  assert.ok(evs.length >= 1);
  evs.forEach((e, i) => {
    assert.equal(e.index, i + 1);
    checkToken(e.token);
    if (i < evs.length - 1) {
      assert.equal(e.generated_text, null);
      assert.equal(e.details, null);
    }
  });
  const last = evs.at(-1);
  assert.equal(typeof last.generated_text, 'string');
  if (details) {
    assert.ok(FINISH.includes(last.details.finish_reason));
    assert.equal(last.details.generated_tokens, evs.length);
    assert.equal(typeof last.details.input_length, 'number');
  } else {
    assert.equal(last.details, null);
  }
  // The text is the tokens' text, special tokens (EOS) aside.
  assert.equal(evs.filter((e) => !e.token.special).map((e) => e.token.text).join(''), last.generated_text);
  return last;
}

async function expectClientError(fn, fragment) {
  await assert.rejects(fn, (e) => {
    assert.ok(e instanceof hf.InferenceClientProviderApiError, String(e));
    assert.ok(e.message.includes(fragment), e.message);
    return true;
  });
}

const scenarios = {
  // @huggingface/inference against POST /: a whole answer (TGI's one-element array, unwrapped by the client)
  // and a stream, greedy, the same text both ways and the same as /generate's.
  async client() {
    const args = { endpointUrl: baseURL, accessToken: options.apiKey, inputs: PROMPT, parameters: { max_new_tokens: 12, details: true } };
    const out = await hf.textGeneration(args);
    assert.equal(typeof out.generated_text, 'string');
    assert.ok(out.generated_text.length > 0);
    assert.ok(FINISH.includes(out.details.finish_reason));
    assert.ok(out.details.generated_tokens >= 1 && out.details.generated_tokens <= 12);
    assert.equal(out.details.tokens.length, out.details.generated_tokens);
    out.details.tokens.forEach(checkToken);
    assert.equal(out.details.seed, null);  // greedy: parameters given, no sampling asked for
    const again = await hf.textGeneration(args);
    assert.equal(again.generated_text, out.generated_text);

    const evs = [];
    for await (const ev of hf.textGenerationStream(args)) evs.push(ev);
    const last = checkStream(evs, { details: true });
    assert.equal(last.generated_text, out.generated_text);
    assert.equal(last.details.generated_tokens, out.details.generated_tokens);

    const raw = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 12 } }));
    assert.deepEqual(raw, { generated_text: out.generated_text });

    // Without "parameters" TGI samples (its default_parameters), and reports the seed it drew.
    const sampled = await hf.textGeneration({ endpointUrl: baseURL, accessToken: options.apiKey, inputs: PROMPT });
    assert.equal(typeof sampled.generated_text, 'string');
    // A refused value comes back as the client's typed error, with TGI's message, whole or streamed.
    await expectClientError(() => hf.textGeneration({ ...args, parameters: { temperature: 0 } }), '`temperature` must be strictly positive');
    await expectClientError(async () => {
      for await (const _ of hf.textGenerationStream({ ...args, parameters: { top_p: 1.5 } }));
    }, '`top_p` must be > 0.0 and < 1.0');
  },

  // Raw HTTP: /generate and POST / bodies, details, seeds, stop sequences, truncate, top_n_tokens, grammar.
  async generate() {
    const g = await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 6, details: true, return_full_text: true } });
    assert.equal(g.status, 200, g.text);
    assert.ok(g.type.startsWith('application/json'));
    const body = json(g);
    assert.ok(body.generated_text.startsWith(PROMPT));
    assert.deepEqual(Object.keys(body.details).sort(), ['finish_reason', 'generated_tokens', 'prefill', 'seed', 'tokens']);
    assert.deepEqual(body.details.prefill, []);
    assert.equal(g.headers.get('x-generated-tokens'), String(body.details.generated_tokens));

    const compat = await post('/', { inputs: PROMPT, parameters: { max_new_tokens: 6 } });
    assert.equal(compat.status, 200);
    assert.deepEqual(json(compat), [{ generated_text: body.generated_text.slice(PROMPT.length) }]);

    // Sampling with a seed is reproducible and reports the seed; top_n_tokens lists alternatives per token.
    const seeded = { inputs: PROMPT, parameters: { max_new_tokens: 8, do_sample: true, temperature: 1.3, seed: 1234, details: true, top_n_tokens: 2 } };
    const s1 = json(await post('/generate', seeded)), s2 = json(await post('/generate', seeded));
    assert.equal(s1.generated_text, s2.generated_text);
    assert.equal(s1.details.seed, 1234);
    assert.equal(s1.details.top_tokens.length, s1.details.tokens.length);
    for (const alts of s1.details.top_tokens) {
      assert.equal(alts.length, 2);
      alts.forEach(checkToken);
      assert.ok(alts[0].logprob >= alts[1].logprob);
    }

    // A stop sequence taken from the greedy answer ends it there.
    const greedy = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 12 } })).generated_text;
    const word = greedy.trim().split(/\s+/)[1];
    assert.ok(word, greedy);
    const stopped = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 12, stop: [word], details: true } }));
    assert.equal(stopped.details.finish_reason, 'stop_sequence');
    assert.equal(stopped.generated_text, greedy.slice(0, greedy.indexOf(word)));

    // max_new_tokens 1: finish_reason length, one token.
    const one = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 1, details: true } }));
    assert.equal(one.details.finish_reason, 'length');
    assert.equal(one.details.generated_tokens, 1);

    // truncate keeps the prompt's last tokens (the stream's details say how many went in).
    const t = events((await post('/generate_stream', { inputs: PROMPT + ' there was a little girl', parameters: { max_new_tokens: 2, truncate: 3, details: true } })).text);
    assert.equal(t.at(-1).details.input_length, 3);

    // decoder_input_details: the prompt's tokens with their logprobs, the first without (nothing precedes it).
    const scored = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 6, details: true, decoder_input_details: true } }));
    const prefill = scored.details.prefill;
    assert.ok(prefill.length >= 3, JSON.stringify(prefill));
    assert.deepEqual(Object.keys(prefill[1]).sort(), ['id', 'logprob', 'text']);
    assert.equal(prefill[0].logprob, null);
    for (const t of prefill.slice(1)) assert.ok(typeof t.logprob === 'number' && t.logprob <= 0, JSON.stringify(t));
    assert.match(prefill.map((t) => t.text).join(''), /upon a time$/);
    // Scoring the prompt followed by its greedy answer gives the answer's tokens the logprobs their generation
    // reported: a prompt position is scored exactly as a decode step.
    const again = json(await post('/generate', { inputs: PROMPT + scored.generated_text, parameters: { max_new_tokens: 1, details: true, decoder_input_details: true } }));
    const answer = again.details.prefill.slice(prefill.length);
    assert.deepEqual(again.details.prefill.slice(0, prefill.length).map((t) => t.id), prefill.map((t) => t.id));
    assert.deepEqual(answer.map((t) => t.id), scored.details.tokens.map((t) => t.id));
    answer.forEach((t, i) => assert.ok(Math.abs(t.logprob - scored.details.tokens[i].logprob) < 1e-3,
                                       `${i}: prefill ${t.logprob} vs generated ${scored.details.tokens[i].logprob}`));

    // A regex grammar constrains the answer.
    const digits = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 10, grammar: { type: 'regex', value: '[0-9]{3}' } } }));
    assert.match(digits.generated_text, /^[0-9]{3}$/);
  },

  // /generate_stream and POST / with stream: the event shapes, details, and errors as events.
  async stream() {
    const r = await post('/generate_stream', { inputs: PROMPT, parameters: { max_new_tokens: 10, details: true } });
    assert.equal(r.status, 200);
    assert.ok(r.type.startsWith('text/event-stream'));
    const last = checkStream(events(r.text), { details: true });
    assert.equal(last.details.seed, null);
    const greedy = json(await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 10 } }));
    assert.equal(last.generated_text, greedy.generated_text);

    const plain = events((await post('/', { inputs: PROMPT, parameters: { max_new_tokens: 4 }, stream: true })).text);
    checkStream(plain, { details: false });

    const sampled = events((await post('/generate_stream', { inputs: PROMPT, parameters: { max_new_tokens: 4, do_sample: true, seed: 7, details: true } })).text);
    assert.equal(sampled.at(-1).details.seed, 7);

    // A refused value inside the stream (status 200), as TGI's router answers it.
    const bad = await post('/generate_stream', { inputs: PROMPT, parameters: { max_new_tokens: 4, repetition_penalty: -1 } });
    assert.equal(bad.status, 200);
    assert.deepEqual(events(bad.text), [{ error: 'Input validation error: `repetition_penalty` must be strictly positive', error_type: 'validation' }]);
    // TGI's stream details have no prefill: decoder_input_details is refused there, inside the stream.
    const dids = await post('/generate_stream', { inputs: PROMPT, parameters: { max_new_tokens: 4, decoder_input_details: true } });
    assert.deepEqual(events(dids.text), [{ error: 'Input validation error: `decoder_input_details` == true is not supported when streaming tokens', error_type: 'validation' }]);
    // A prompt too long for the context: the serving layer's limit, in the stream too.
    const long = events((await post('/generate_stream', { inputs: PROMPT, parameters: { max_new_tokens: 100000 } })).text);
    assert.equal(long.length, 1);
    assert.equal(long[0].error_type, 'validation');
    assert.match(long[0].error, /max_new_tokens/);
  },

  // /info and the errors with a status.
  async info() {
    const r = await fetch(baseURL + '/info', { headers: auth });
    assert.equal(r.status, 200);
    const info = await r.json();
    assert.equal(info.model_id, 'stories260K-hf');
    assert.equal(info.model_device_type, 'cpu');
    assert.equal(info.router, 'text-generation-router');
    assert.equal(info.max_best_of, 1);
    assert.equal(info.max_stop_sequences, 4);
    assert.equal(info.max_concurrent_requests, options.maxConcurrent ?? 128);
    assert.ok(info.max_input_tokens > 0 && info.max_input_tokens < info.max_total_tokens, JSON.stringify(info));
    for (const k of ['model_sha', 'model_dtype', 'version', 'sha', 'docker_label', 'validation_workers', 'max_client_batch_size']) assert.ok(k in info, k);

    for (const [path, body, message] of [
      ['/generate', { inputs: PROMPT, parameters: { temperature: -1 } }, 'Input validation error: `temperature` must be strictly positive'],
      ['/generate', { inputs: '' }, 'Input validation error: `inputs` cannot be empty'],
      ['/generate', { inputs: PROMPT, parameters: { best_of: 2 } }, 'Input validation error: `best_of` must be > 0 and <= 1. Given: 2'],
      ['/generate', { parameters: {} }, null],
      ['/generate_stream', { inputs: 7 }, null],
    ]) {
      const e = await post(path, body);
      assert.equal(e.status, 422, e.text);
      const j = json(e);
      assert.equal(j.error_type, 'validation');
      if (message) assert.equal(j.error, message);
    }
    const m = await fetch(baseURL + '/generate', { headers: auth });
    assert.equal(m.status, 405);
    assert.equal((await m.json()).error_type, 'method_not_allowed');
  },

  // With --max-concurrent-requests 1 and a long generation holding the slot: 429 overloaded, an overloaded
  // event in a stream, and the client's error.
  async overloaded() {
    const abort = new AbortController();
    const long = await fetch(baseURL + '/v1/completions', { method: 'POST', signal: abort.signal, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: ['Once', 'A dog', 'The cat', 'Lily'], n: 16, max_tokens: 500, temperature: 1, stream: true }) });
    assert.equal(long.status, 200);
    await long.body.getReader().read();
    const r = await post('/generate', { inputs: PROMPT, parameters: { max_new_tokens: 2 } });
    assert.equal(r.status, 429, r.text);
    assert.equal(json(r).error_type, 'overloaded');
    assert.ok(json(r).error.startsWith('Model is overloaded'));
    assert.equal(r.headers.get('retry-after'), '1');
    const s = await post('/generate_stream', { inputs: PROMPT, parameters: { max_new_tokens: 2 } });
    assert.equal(s.status, 200);
    const evs = events(s.text);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].error_type, 'overloaded');
    await expectClientError(() => hf.textGeneration({ endpointUrl: baseURL, inputs: PROMPT, parameters: { max_new_tokens: 2 } }), 'Model is overloaded');
    abort.abort();
  },

  // A server with --api-key: TGI's routes want the key as a Bearer token; the client sends it as accessToken.
  async auth() {
    for (const [path, init] of [['/generate', { method: 'POST', body: JSON.stringify({ inputs: PROMPT }) }], ['/info', {}]]) {
      const r = await fetch(baseURL + path, { ...init, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 401);
      assert.equal((await r.json()).error_type, 'unauthorized');
    }
    await expectClientError(() => hf.textGeneration({ endpointUrl: baseURL, accessToken: 'wrong', inputs: PROMPT }), 'Unauthorized');
    const ok = await hf.textGeneration({ endpointUrl: baseURL, accessToken: options.apiKey, inputs: PROMPT, parameters: { max_new_tokens: 3 } });
    assert.equal(typeof ok.generated_text, 'string');
  },
};

const fn = scenarios[scenario];
if (!fn) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
try {
  await fn();
} catch (e) {
  console.error(e);
  process.exit(1);
}
