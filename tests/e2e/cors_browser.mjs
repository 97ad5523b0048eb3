// A page of another origin calls r1serve from headless Chromium (Debian's, driven by playwright-core): a
// streamed chat completion with Authorization and a JSON body, which makes the browser send a CORS preflight
// first. Prints what the page saw as JSON: {ok, text} or {ok: false, error}.
// Usage: node cors_browser.mjs SERVER_URL JS_DIR
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [serverURL, jsDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const { chromium } = require('playwright-core');

// The page's own origin: another port on loopback, so another origin than the server's.
const site = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<!doctype html><title>other origin</title>');
});
await new Promise((ok) => site.listen(0, '127.0.0.1', ok));
const pageURL = `http://127.0.0.1:${site.address().port}/`;

const profile = mkdtempSync(join(tmpdir(), 'r1serve-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60000,
  });
  const page = await context.newPage();
  await page.goto(pageURL);
  const seen = await page.evaluate(async (base) => {
    try {
      const r = await fetch(base + '/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer none' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, stream: true }),
      });
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value);
      }
      return { ok: r.ok, status: r.status, text, requestId: r.headers.get('x-request-id') };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, serverURL);
  console.log(JSON.stringify({ page: pageURL, ...seen }));
} finally {
  if (context) await context.close();
  site.close();
  rmSync(profile, { recursive: true, force: true });
}
