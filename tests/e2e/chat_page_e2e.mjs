// The chat page at / in headless Chromium (Debian's, driven by playwright-core) against a real r1serve on
// loopback. One scenario per run; each asserts with node:assert and prints one JSON line of what it measured.
// Usage: node chat_page_e2e.mjs SCENARIO SERVER_URL JS_DIR OUT_DIR
//   chat     streaming, the thinking fold, numbers, settings from generation_config, reload, regenerate,
//            edit-and-resend, Stop (then /metrics), the conversation list, keyboard, labels, an XSS attempt
//            and a 429 (fed through request interception), screenshots into OUT_DIR
//   apikey   the key prompt (a wrong key, then the right one) against --api-key
//   loading  a model that loads on demand: 503 model_not_ready, the countdown, the retry that succeeds
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [scenario, base, jsDir, outDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const { chromium } = require('playwright-core');

const IDLE = () =>
  !document.body.classList.contains('busy') && !!document.querySelector('.msg.assistant:last-child .stats');

async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    timeout: 60000,
  });
}

// A page with CSP violations and page errors recorded, so a test can say none happened.
async function openPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light',
    acceptDownloads: true, ...options });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return { context, page };
}

async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]');
}

async function idle(page) {
  await page.waitForFunction(IDLE, null, { polling: 'raf' });
}

async function setSettings(page, fields) {
  await page.click('#open-settings');
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, String(value));
  await page.click('#settings button[value="close"]');
}

async function runningRequests() {
  const text = await (await fetch(base + '/metrics')).text();
  const m = text.match(/^vllm:num_requests_running\{[^}]*\} (\d+)/m);
  assert.ok(m, 'vllm:num_requests_running in /metrics');
  return Number(m[1]);
}

function sse(events) {
  return events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');
}

function chunk(delta, finish = null) {
  return { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }] };
}

// An exact stream, as r1serve would send it, for the XSS test and the screenshots.
function cannedStream(reasoning, pieces) {
  return sse([
    chunk({ role: 'assistant', content: '' }),
    chunk({ reasoning_content: reasoning }),
    ...pieces.map((p) => chunk({ content: p })),
    chunk({}, 'stop'),
    { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [],
      usage: { prompt_tokens: 17, completion_tokens: 93, total_tokens: 110 } },
    '[DONE]',
  ]);
}

// A loopback server that sends a canned stream a word at a time (15 ms apart), so a screenshot's numbers come
// from a stream paced like a real one; requests are routed to it by interception (the page never sees it).
async function pacedStream(reasoning, content) {
  const words = (t) => t.match(/\S+\s*|\s+/g) ?? [];
  const events = [chunk({ role: 'assistant', content: '' }),
    ...words(reasoning).map((w) => chunk({ reasoning_content: w })),
    ...words(content).map((w) => chunk({ content: w })), chunk({}, 'stop')];
  const usage = { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [],
    usage: { prompt_tokens: 62, completion_tokens: events.length - 2, total_tokens: 60 + events.length } };
  const server = createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    for (const e of [...events, usage, '[DONE]']) {
      res.write(sse([e]));
      await new Promise((r) => setTimeout(r, 15));
    }
    res.end();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

async function lastAnswer(page) {
  return page.evaluate(() => {
    const a = [...document.querySelectorAll('.msg.assistant')].at(-1);
    const d = a.querySelector('details.thinking');
    return {
      open: d.open, hidden: d.hidden, summary: a.querySelector('summary').textContent,
      reasoning: a.querySelector('.thinking-body').textContent, content: a.querySelector('.content').textContent,
      stats: a.querySelector('.stats').textContent,
    };
  });
}

async function chat() {
  const browser = await launch();
  const out = {};
  try {
    const { page } = await openPage(browser);
    // The page samples at the model's defaults without a seed, and this random model may draw its EOS after a
    // few tokens: on the wire (after the page's own body is checked) ignore_eos makes every answer run to
    // max_tokens, so "the text grows over several frames" and Stop always find a stream to watch.
    await page.route('**/v1/chat/completions', (route) => {
      const body = route.request().postDataJSON();
      return route.continue({ postData: JSON.stringify({ ...body, ignore_eos: true }) });
    });
    await page.goto(base + '/');
    await ready(page);
    // Loopback figures of a first (uncached) load: bytes over the wire and time to interactive (the models
    // are listed and the composer works).
    Object.assign(out, await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const bytes = nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0);
      return { transfer_bytes: bytes, requests: 1 + res.length,
        tti_ms: Math.round(performance.getEntriesByName('r1serve-interactive')[0].startTime),
        dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd) };
    }));
    assert.ok((await page.$$eval('#model option', (o) => o.length)) >= 1, 'the model picker lists the model');

    // Settings start from the model's generation_config.json (0.6 / 0.95 in this model's).
    await page.click('#open-settings');
    assert.equal(await page.inputValue('#temperature'), '0.6');
    assert.equal(await page.inputValue('#top-p'), '0.95');
    assert.match(await page.textContent('#defaults-note'), /temperature 0\.6/);
    await page.fill('#max-tokens', '24');
    await page.click('#settings button[value="close"]');

    // Every control has a label a screen reader reads.
    const unlabeled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')]
        .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
        .map((e) => e.outerHTML));
    assert.deepEqual(unlabeled, []);
    // Focus order: model, settings, then the conversations, then the message box and Send; before them all,
    // the skip link.
    await page.click('.topbar h1');
    const order = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.className));
    }
    assert.deepEqual(order.slice(0, 3), ['model', 'open-settings', 'new-chat'], order.join(','));
    assert.ok(order.indexOf('prompt') > order.indexOf('new-chat') && order.includes('send'), order.join(','));
    await page.focus('#model');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');

    // Shift+Enter is a newline, not a send.
    let sent = 0;
    page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) sent++; });
    await page.focus('#prompt');
    await page.keyboard.type('a');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('b');
    assert.equal(await page.inputValue('#prompt'), 'a\nb');
    assert.equal(sent, 0);
    await page.fill('#prompt', '');

    // A message streams in: the text grows over several frames; Enter sends.
    await page.evaluate(() => {
      window.__lengths = [];
      const tick = () => {
        const a = [...document.querySelectorAll('.msg.assistant')].at(-1);
        if (a) window.__lengths.push(a.querySelector('.thinking-body').textContent.length +
                                     a.querySelector('.content').textContent.length);
        if (!window.__stopSampling) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.fill('#prompt', 'Once upon a time');
    const [req] = await Promise.all([page.waitForRequest('**/v1/chat/completions'), page.press('#prompt', 'Enter')]);
    const body = req.postDataJSON();
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.temperature, 0.6);
    assert.equal(body.top_p, 0.95);
    assert.equal(body.max_tokens, 24);
    assert.deepEqual(body.messages, [{ role: 'user', content: 'Once upon a time' }]);
    await idle(page);
    const lengths = await page.evaluate(() => { window.__stopSampling = true; return window.__lengths; });
    const growth = lengths.filter((n, i) => n > 0 && n > (lengths[i - 1] ?? 0)).length;
    out.frames_with_growth = growth;
    assert.ok(growth >= 3, `the answer grew over ${growth} frames: ${lengths.join(',')}`);

    // The reasoning folded when the answer started, with its duration; a click opens it.
    let a = await lastAnswer(page);
    assert.equal(a.hidden, false);
    assert.equal(a.open, false, 'the thinking section is folded once the answer starts');
    assert.match(a.summary, /^Thought for \d+ s$/);
    assert.ok(a.reasoning.length > 0 && a.content.length > 0, JSON.stringify(a));
    await page.click('.msg.assistant summary');
    assert.equal(await page.$eval('.msg.assistant details', (d) => d.open), true);
    // The numbers under the answer.
    assert.match(await page.textContent('.msg.assistant .ttft'), /^TTFT \d+ ms$/);
    assert.match(await page.textContent('.msg.assistant .tps'), /^\d+\.\d tokens\/s$/);
    const tokens = (await page.textContent('.msg.assistant .tokens')).match(/^(\d+) prompt \+ (\d+) completion tokens$/);
    assert.ok(tokens && Number(tokens[1]) > 0 && Number(tokens[2]) > 0 && Number(tokens[2]) <= 24, String(tokens));

    // A reload keeps the conversation (localStorage).
    a = await lastAnswer(page);
    await page.reload();
    await ready(page);
    const b = await lastAnswer(page);
    assert.equal(b.content, a.content);
    assert.equal(b.reasoning, a.reasoning);
    assert.equal(b.summary, a.summary);
    assert.equal(await page.textContent('.msg.user .content'), 'Once upon a time');
    assert.deepEqual(await page.$$eval('#conversations .conv-title', (l) => l.map((e) => e.textContent)),
      ['Once upon a time']);

    // Regenerate: the last answer is asked for again, in place.
    const [regen] = await Promise.all([page.waitForRequest('**/v1/chat/completions'), page.click('.regenerate')]);
    assert.deepEqual(regen.postDataJSON().messages, [{ role: 'user', content: 'Once upon a time' }]);
    await idle(page);
    assert.equal(await page.$$eval('.msg', (m) => m.length), 2);

    // Edit and resend a user turn: what followed it is replaced.
    await page.click('.msg.user .edit');
    await page.fill('.edit-box', 'Once upon a time there was a cat');
    const [edited] = await Promise.all([page.waitForRequest('**/v1/chat/completions'), page.press('.edit-box', 'Enter')]);
    assert.deepEqual(edited.postDataJSON().messages, [{ role: 'user', content: 'Once upon a time there was a cat' }]);
    await idle(page);
    assert.equal(await page.$$eval('.msg', (m) => m.length), 2);
    assert.equal(await page.textContent('.msg.user .content'), 'Once upon a time there was a cat');

    // Stop (Esc) aborts the request: the server frees the sequence (/metrics shows none running).
    await page.click('#new-chat');
    await setSettings(page, { 'max-tokens': 400 });
    await page.fill('#prompt', 'Tell me a long story');
    await page.press('#prompt', 'Enter');
    await page.waitForFunction(() => {
      const a = [...document.querySelectorAll('.msg.assistant')].at(-1);
      return a && a.querySelector('.thinking-body').textContent.length > 0;
    }, null, { polling: 'raf' });
    out.running_before_stop = await runningRequests();
    assert.equal(out.running_before_stop, 1, 'the request is running before Stop');
    await page.keyboard.press('Escape');
    await idle(page);
    assert.equal(await page.textContent('.msg.assistant .stopped'), 'stopped');
    assert.equal(await page.isVisible('#send'), true);
    let running = 1;
    for (let i = 0; i < 100 && running !== 0; i++) {
      running = await runningRequests();
      if (running) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(running, 0, 'no running request in /metrics after Stop');

    // The list: two conversations; rename one, delete it, export the rest as JSON.
    assert.equal(await page.$$eval('#conversations li', (l) => l.length), 2);
    await page.click('#conversations li.current button[aria-label^="Rename"]');
    await page.fill('#conversations input.rename', 'Long story');
    await page.press('#conversations input.rename', 'Enter');
    assert.deepEqual(await page.$$eval('#conversations .conv-title', (l) => l.map((e) => e.textContent)),
      ['Long story', 'Once upon a time']);  // named after its first message as first sent
    page.once('dialog', (d) => d.accept());
    await page.click('#conversations li.current button[aria-label^="Delete"]');
    assert.deepEqual(await page.$$eval('#conversations .conv-title', (l) => l.map((e) => e.textContent)),
      ['Once upon a time']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(exported.conversations.length, 1);
    assert.equal(exported.conversations[0].messages[0].content, 'Once upon a time there was a cat');

    // Model output is untrusted: markup, event handlers, javascript: links and script stay inert.
    await page.click('#new-chat');
    await page.route('**/v1/chat/completions', (route) => route.fulfill({
      status: 200, headers: { 'Content-Type': 'text/event-stream' },
      body: cannedStream('Let me think. <img src=x onerror="window.__pwned=\'reasoning\'"> 6 × 7 = 42.', [
        'The answer:\n\n$$\\boxed{42}$$\n\n',
        '<img src=x onerror="window.__pwned=\'img\'">\n\n',
        '[click me](javascript:window.__pwned=\'link\')\n\n',
        '<a href="javascript:window.__pwned=\'a\'">raw link</a>\n\n',
        '<script>window.__pwned=\'script\'</script>\n\n<svg><script>window.__pwned=\'svg\'</script></svg>\n\n',
        '<iframe src="javascript:parent.__pwned=\'iframe\'"></iframe><form action="javascript:x"><button>go</button></form>\n\n',
        '```js\nconsole.log(6 * 7);\n```\n\nInline $x^2$ too.',
      ]),
    }));
    await page.fill('#prompt', 'What is 6 × 7?');
    await page.press('#prompt', 'Enter');
    await idle(page);
    for (const name of ['click me', 'raw link']) await page.click(`.msg.assistant a:text("${name}")`, { noWaitAfter: true }).catch(() => {});
    await page.waitForTimeout(300);
    const inert = await page.evaluate(() => {
      const box = document.getElementById('messages');
      return {
        pwned: window.__pwned ?? null,
        handlers: [...box.querySelectorAll('*')].filter((e) => [...e.attributes].some((x) => x.name.startsWith('on'))).length,
        jsLinks: [...box.querySelectorAll('[href],[src],[action]')].filter((e) =>
          /javascript:/i.test(e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action'))).length,
        scripts: box.querySelectorAll('script, iframe, form, button:not(.copy-code):not(.copy):not(.regenerate):not(.edit)').length,
        boxed: box.querySelectorAll('.msg.assistant .content math .tml-boxed').length,
        styled: box.querySelectorAll('.msg.assistant .content [style]').length,
        math: box.querySelector('.msg.assistant .content math')?.textContent ?? '',
        code: box.querySelector('.msg.assistant pre code')?.textContent ?? '',
        copyButtons: box.querySelectorAll('.msg.assistant .copy-code').length,
        violations: window.__violations,
      };
    });
    assert.equal(inert.pwned, null, 'no script ran from model output');
    assert.equal(inert.handlers, 0);
    assert.equal(inert.jsLinks, 0);
    assert.equal(inert.scripts, 0);
    assert.equal(inert.math, '42', 'the \\boxed{} answer is rendered as MathML');
    assert.equal(inert.code, 'console.log(6 * 7);\n');
    assert.equal(inert.copyButtons, 1);
    assert.equal(inert.boxed, 1, 'the box of \\boxed{} survives as a class');
    assert.equal(inert.styled, 0, 'no inline style from model output');
    out.csp_violations = inert.violations;  // what the CSP blocked besides (the second wall)
    await page.click('.copy-code');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'console.log(6 * 7);\n');

    // A 429 is explained, with its Retry-After; the user's message stays for a retry.
    await page.unroute('**/v1/chat/completions');
    await page.route('**/v1/chat/completions', (route) => route.fulfill({
      status: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': '7' },
      body: JSON.stringify({ error: { message: 'Too many requests in flight (--max-concurrent-requests 1).',
        type: 'rate_limit_error', param: null, code: null } }),
    }));
    await page.click('#new-chat');
    await page.fill('#prompt', 'Hello?');
    await page.press('#prompt', 'Enter');
    await page.waitForSelector('#notice:not([hidden])');
    const n429 = await page.textContent('#notice');
    assert.match(n429, /too many requests at once \(429\)\. Try again in 7 s\. Too many requests in flight/);
    assert.equal(await page.$$eval('.msg', (m) => m.map((e) => e.className).join()), 'msg user');
    out.notice_429 = n429;

    // Screenshots: a canned answer (thinking folded, markdown, math, code) in light, dark and on a phone.
    await page.unroute('**/v1/chat/completions');
    const paced = await pacedStream(
      'Natalia sold 48 clips in April. In May she sold half as many: 48 / 2 = 24. Altogether 48 + 24 = 72.',
      'In May she sold half of April’s clips:\n\n- April: **48** clips\n- May: 48 / 2 = **24** clips\n\n' +
      'Together: $48 + 24 = 72$, so the answer is\n\n$$\\boxed{72}$$\n\nThe same in Python:\n\n' +
      '```python\napril = 48\nmay = april // 2\nprint(april + may)  # 72\n```\n');
    await page.route('**/v1/chat/completions', (route) => route.continue({ url: paced.url }));
    await page.click('#new-chat');
    await page.fill('#prompt', 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?');
    await page.press('#prompt', 'Enter');
    await idle(page);
    await page.evaluate(() => document.activeElement.blur());
    await page.mouse.move(900, 680);
    await page.screenshot({ path: join(outDir, 'chat-desktop-light.png') });
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(dark, light, 'the dark theme follows the system');
    await page.screenshot({ path: join(outDir, 'chat-desktop-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.isVisible('#sidebar'), false, 'the list folds away on a phone');
    assert.equal(await page.isVisible('#toggle-list'), true);
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(fits, 'nothing scrolls sideways on a phone');
    await page.screenshot({ path: join(outDir, 'chat-phone.png') });
    await page.click('#toggle-list');
    await page.waitForSelector('#sidebar', { state: 'visible' });
    paced.close();
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
  }
  return out;
}

async function apikey() {
  const browser = await launch();
  try {
    const { page } = await openPage(browser);
    await page.goto(base + '/');
    // The page loads; the models list needs the key: the prompt appears.
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#api-key', 'wrong-key');
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-error:not([hidden])');
    assert.match(await page.textContent('#key-error'), /refused the key/);
    assert.equal(await page.isVisible('#key-dialog'), true);
    await page.fill('#api-key', 'sekret');
    await page.press('#api-key', 'Enter');
    await ready(page);
    assert.ok((await page.$$eval('#model option', (o) => o.length)) >= 1);
    await setSettings(page, { 'max-tokens': 8 });
    await page.fill('#prompt', 'Hello');
    const [req] = await Promise.all([page.waitForRequest('**/v1/chat/completions'), page.press('#prompt', 'Enter')]);
    assert.equal(req.headers().authorization, 'Bearer sekret');
    await idle(page);
    assert.match(await page.textContent('.msg.assistant .tokens'), /completion tokens/);
    // The key is kept: a reload asks no more.
    await page.reload();
    await ready(page);
    assert.equal(await page.isVisible('#key-dialog'), false);
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
  }
  return {};
}

async function loading() {
  const browser = await launch();
  try {
    const { page } = await openPage(browser);
    const statuses = [];
    page.on('response', (r) => { if (r.url().endsWith('/v1/chat/completions')) statuses.push(r.status()); });
    await page.goto(base + '/');
    await ready(page);
    // Several models: the picker shows each one's state.
    assert.deepEqual(await page.$$eval('#model option', (o) => o.map((e) => e.textContent)),
      ['stories (loads on first message)', 'stories-copy (loads on first message)']);
    assert.equal(await page.textContent('#model-state'), 'loads on first message');
    // Before its first load a model's generation_config is not known (null); stories' file sets no sampling
    // values, so once loaded it is {}.
    const genConfig = async () => (await (await fetch(base + '/v1/models/stories')).json()).r1serve;
    assert.deepEqual(await genConfig(), { generation_config: null, reasoning: null });
    await setSettings(page, { 'max-tokens': 8 });
    await page.fill('#prompt', 'Once upon a time');
    await page.press('#prompt', 'Enter');
    // 503 model_not_ready: "loading…" with the Retry-After countdown, then the request is sent again.
    await page.waitForFunction(() => /is loading… retrying in \d+ s/.test(document.getElementById('notice').textContent),
      null, { polling: 'raf' });
    const notice = await page.textContent('#notice');
    assert.match(await page.textContent('#model-state'), /^loading… retry in \d+ s$/);
    await idle(page);
    assert.match(await page.textContent('.msg.assistant .tokens'), /completion tokens/);
    assert.deepEqual(statuses, [503, 200]);
    await page.waitForFunction(() => document.getElementById('model-state').textContent === 'ready');
    assert.equal(await page.textContent('#model option[value="stories"]'), 'stories (ready)');
    assert.deepEqual(await genConfig(), { generation_config: {}, reasoning: true });
    assert.deepEqual(page.errors, []);
    return { notice };
  } finally {
    await browser.close();
  }
}

const run = { chat, apikey, loading }[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify({ ok: true, scenario, ...(await run()) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, scenario, error: String(e.stack ?? e) }));
  process.exit(1);
}
