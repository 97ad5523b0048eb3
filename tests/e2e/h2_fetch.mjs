// A fetch() over one HTTP/2 cleartext (h2c, prior knowledge) session made with Node's own http2 module, for
// clients that take a custom fetch (the openai client): every request of the client becomes a stream of that
// one connection. Streams are aborted with RST_STREAM(CANCEL) when the request's signal fires.
import http2 from 'node:http2';

export function h2Fetch(baseURL) {
  const session = http2.connect(baseURL);
  session.on('error', () => {});
  const fetchImpl = async (url, init = {}) => {
    const u = new URL(typeof url === 'string' ? url : url.url);
    const headers = { ':method': init.method ?? 'GET', ':path': u.pathname + u.search };
    for (const [k, v] of new Headers(init.headers ?? {})) headers[k] = v;
    const abortError = () => new DOMException('This operation was aborted', 'AbortError');
    if (init.signal?.aborted) throw abortError();
    const req = session.request(headers);
    let controller = null;
    const onAbort = () => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      controller?.error(abortError());
    };
    init.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(init.body ?? undefined);
    const head = await new Promise((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      init.signal?.addEventListener('abort', () => reject(abortError()), { once: true });
    });
    const h = new Headers();
    for (const [k, v] of Object.entries(head)) if (!k.startsWith(':')) h.append(k, String(v));
    const status = head[':status'];
    const body = new ReadableStream({
      start(c) {
        controller = c;
        req.on('data', (chunk) => { try { c.enqueue(new Uint8Array(chunk)); } catch {} });  // after an abort: dropped
        req.on('end', () => { try { c.close(); } catch {} });
        req.on('error', (e) => { try { c.error(e); } catch {} });
      },
      cancel() { req.close(http2.constants.NGHTTP2_CANCEL); },
    });
    const empty = init.method === 'HEAD' || status === 204 || status === 304;
    return new Response(empty ? null : body, { status, headers: h });
  };
  fetchImpl.close = () => session.close();
  return fetchImpl;
}
