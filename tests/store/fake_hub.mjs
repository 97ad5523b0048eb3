// A stand-in for the Hugging Face Hub on loopback, speaking its wire format as huggingface_hub expects it, for
// r1serve pull's end-to-end tests. The real Hub cannot be reached from the test machines, so this server is
// what the tests pull from; it follows the Hub's documented behaviour:
//   GET  /api/models/ORG/NAME/revision/REV[?blobs=true]  {id, sha, siblings: [{rfilename, size, blobId, lfs}]}
//   HEAD|GET /ORG/NAME/resolve/REV/FILE                    small files: 200, ETag "<git blob sha1>";
//        LFS files (*.safetensors, *.gguf): 302 to a second port standing for the CDN, with X-Linked-Etag
//        "<sha256>" and X-Linked-Size; always X-Repo-Commit; errors with X-Error-Code / X-Error-Message
//   POST /api/models/ORG/NAME/paths-info/REV              [{type, path, size, oid, lfs, lastCommit}] (what the
//                                                          @huggingface/hub npm package asks before downloading)
//   GET  CDN /blobs/<sha256>                               the bytes, honouring Range (206 + Content-Range)
// Faults (flags): --cut-once (the CDN drops the connection halfway through the first download of each blob),
// --ignore-range (the CDN answers 200 with the whole file to Range requests), --corrupt (one byte of every LFS
// download flipped), --slow (LFS bytes in 8 pieces 60 ms apart), --stall (half of each LFS file, then silence
// with the connection open), --bad-range (206 answers that start at byte 0 whatever was asked),
// --evil-redirect (LFS files redirect to a file:// URL), --token T with --auth-status 401|403 (private or
// gated: the Hub wants Bearer T).
// Every request is appended to --log as one JSON line: {server, method, url, range, authorization}.
// Prints "ready HUB_PORT CDN_PORT" once both listen.
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(name);
const repoDir = opt('--repo-dir');
const repoId = opt('--repo', 'test-org/stories260K');
const logFile = opt('--log');
const token = opt('--token');
const authStatus = Number(opt('--auth-status', '401'));
const revisions = { main: null, v1: null };  // both name the one commit

// The repo: every file under --repo-dir, read once.
const files = new Map();
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.set(relative(repoDir, p), readFileSync(p));
  }
};
walk(repoDir);
const isLfs = (path) => /\.(safetensors|gguf)$/.test(path);
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const gitBlobSha1 = (buf) => createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
const commit = createHash('sha1').update([...files.keys()].join('\n')).digest('hex');
const blobs = new Map();  // sha256 -> bytes, what the CDN serves
for (const [path, buf] of files) if (isLfs(path)) blobs.set(sha256(buf), buf);

const log = (server, req) => {
  if (!logFile) return;
  appendFileSync(logFile, JSON.stringify({
    server, method: req.method, url: req.url, range: req.headers.range ?? null,
    authorization: req.headers.authorization ?? null,
  }) + '\n');
};

const hubError = (res, status, code, message) => {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message });
  res.end(JSON.stringify({ error: message }));
};

// Sends `buf` honouring a Range header unless told not to; `cut` drops the connection halfway.
const sendBytes = (req, res, buf, headers, opts = {}) => {
  const { ignoreRange = false, badRange = false, cut = false, corrupt = false, slow = false, stall = false } = opts;
  let start = 0;
  let status = 200;
  let end = buf.length;  // exclusive
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (m && !ignoreRange) {
    start = Number(m[1]);
    if (m[2] !== '') end = Math.min(end, Number(m[2]) + 1);
    if (start >= buf.length || start >= end) {
      res.writeHead(416, { 'Content-Range': `bytes */${buf.length}` });
      return res.end();
    }
    status = 206;
    if (badRange) start = 0;  // a broken server: 206, but the piece from byte 0
    headers['Content-Range'] = `bytes ${start}-${end - 1}/${buf.length}`;
  }
  let body = Buffer.from(buf.subarray(start, end));
  if (corrupt && body.length > 0) body[body.length >> 1] ^= 0xff;
  headers['Content-Length'] = body.length;
  headers['Accept-Ranges'] = 'bytes';
  res.writeHead(status, headers);
  if (req.method === 'HEAD') return res.end();
  if (cut) {
    res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket.destroy(), 50));
    return;
  }
  if (stall) return res.write(body.subarray(0, body.length >> 1));
  if (slow) {
    const piece = Math.ceil(body.length / 8);
    const send = (i) => {
      if (i * piece >= body.length) return res.end();
      res.write(body.subarray(i * piece, (i + 1) * piece));
      setTimeout(() => send(i + 1), 60);
    };
    return send(0);
  }
  res.end(body);
};

let cdnPort = 0;
const cutDone = new Set();

const hub = createServer((req, res) => {
  log('hub', req);
  const url = new URL(req.url, 'http://x');
  const path = decodeURIComponent(url.pathname);
  if (token && req.headers.authorization !== `Bearer ${token}`) {
    return authStatus === 403
      ? hubError(res, 403, 'GatedRepo', `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it.`)
      : hubError(res, 401, 'RepoNotFound', 'Repository not found');
  }
  const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
  const pathsInfo = /^\/api\/models\/([^/]+\/[^/]+)\/paths-info\/(.+)$/.exec(path);
  const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  const id = (api ?? pathsInfo ?? resolve)?.[1];
  if (!id) return hubError(res, 404, 'EntryNotFound', `no route ${path}`);
  if (id !== repoId) return hubError(res, 404, 'RepoNotFound', `Repository not found: ${id}`);
  const rev = (api ?? pathsInfo ?? resolve)[2];
  if (!(rev in revisions) && rev !== commit) return hubError(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
  if (api) {
    const siblings = [...files].map(([rfilename, buf]) => ({
      rfilename, size: buf.length, blobId: gitBlobSha1(buf),
      ...(isLfs(rfilename) ? { lfs: { sha256: sha256(buf), size: buf.length, pointerSize: 134 } } : {}),
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ id: repoId, modelId: repoId, sha: commit, private: !!token, siblings }));
  }
  if (pathsInfo) {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const wanted = JSON.parse(body).paths ?? [];
      const out = wanted.filter((p) => files.has(p)).map((p) => {
        const buf = files.get(p);
        return {
          type: 'file', path: p, size: buf.length, oid: gitBlobSha1(buf),
          ...(isLfs(p) ? { lfs: { oid: sha256(buf), size: buf.length, pointerSize: 134 } } : {}),
          lastCommit: { id: commit, title: 'initial commit', date: '2026-01-01T00:00:00.000Z' },
        };
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out));
    });
    return;
  }
  const file = resolve[3];
  const buf = files.get(file);
  if (!buf) return hubError(res, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`);
  if (isLfs(file)) {
    const sha = sha256(buf);
    res.writeHead(302, {
      Location: flag('--evil-redirect') ? 'file:///etc/hostname' : `http://127.0.0.1:${cdnPort}/blobs/${sha}`,
      'X-Repo-Commit': commit,
      'X-Linked-Etag': `"${sha}"`, 'X-Linked-Size': String(buf.length), ETag: `"${gitBlobSha1(Buffer.from('pointer'))}"`,
      'Content-Length': 0,
    });
    return res.end();
  }
  sendBytes(req, res, buf, { 'X-Repo-Commit': commit, ETag: `"${gitBlobSha1(buf)}"` });
});

const cdn = createServer((req, res) => {
  log('cdn', req);
  const m = /^\/blobs\/([0-9a-f]{64})$/.exec(new URL(req.url, 'http://x').pathname);
  const buf = m && blobs.get(m[1]);
  if (!buf) {
    res.writeHead(404);
    return res.end('no such blob');
  }
  const cut = flag('--cut-once') && req.method === 'GET' && !cutDone.has(m[1]);
  if (cut) cutDone.add(m[1]);
  sendBytes(req, res, buf, { ETag: `"${m[1]}"` },
            { ignoreRange: flag('--ignore-range'), badRange: flag('--bad-range'), cut, corrupt: flag('--corrupt'), slow: flag('--slow'),
              stall: flag('--stall') });
});

hub.listen(0, '127.0.0.1', () => {
  cdn.listen(0, '127.0.0.1', () => {
    cdnPort = cdn.address().port;
    process.stdout.write(`ready ${hub.address().port} ${cdnPort} ${commit}\n`);
  });
});
process.on('SIGTERM', () => process.exit(0));
