// The page's only contact with the server: the OpenAI routes, called as any OpenAI client would (Bearer key,
// JSON bodies, server-sent events for the stream).
import { apiKey } from './store.js';

// A non-2xx answer, with what the page needs to explain it: OpenAI's error JSON and Retry-After.
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = body?.error ?? {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code ?? null;
    this.type = e.type ?? null;
    this.retryAfter = retryAfter;
  }
}

function headers(json) {
  const h = {};
  if (json) h['Content-Type'] = 'application/json';
  const k = apiKey();
  if (k) h.Authorization = `Bearer ${k}`;
  return h;
}

async function fail(r) {
  let body = null;
  try {
    body = await r.json();
  } catch {
    // not JSON: the status alone explains it
  }
  const ra = Number.parseInt(r.headers.get('Retry-After') ?? '', 10);
  throw new ApiError(r.status, body, Number.isFinite(ra) ? ra : null);
}

export async function listModels() {
  const r = await fetch('/v1/models', { headers: headers(false) });
  if (!r.ok) await fail(r);
  return (await r.json()).data ?? [];
}

// Streams one chat completion. `onDelta({reasoning, content})` runs per chunk, `onUsage(usage)` once at the
// end. Resolves with the finish reason; rejects with ApiError (HTTP or in-stream error) or AbortError.
export async function streamChat(body, signal, onDelta, onUsage) {
  const r = await fetch('/v1/chat/completions', {
    method: 'POST',
    headers: headers(true),
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal,
  });
  if (!r.ok) await fail(r);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let finish = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    // Events end with a blank line; a partial one waits for the next read.
    let cut;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const event = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      if (data === '[DONE]') return finish;
      let chunk;
      try {
        chunk = JSON.parse(data);
      } catch {
        continue;  // not an event of ours
      }
      if (chunk.error) throw new ApiError(chunk.error.code === 'rate_limit_exceeded' ? 429 : 500, chunk, null);
      for (const c of chunk.choices ?? []) {
        const d = c.delta ?? {};
        if (d.reasoning_content || d.content)
          onDelta({ reasoning: d.reasoning_content ?? '', content: d.content ?? '' });
        if (c.finish_reason) finish = c.finish_reason;
      }
      if (chunk.usage) onUsage(chunk.usage);
    }
  }
  return finish;
}
