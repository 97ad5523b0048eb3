// A real S3-compatible server on loopback for r1serve's s3:// tests: the s3rver npm package (pinned in
// tests/js) serving the files under --dir as objects of bucket --bucket (keys: --prefix + the path below
// --dir), credentials S3RVER / S3RVER. s3rver checks the shape of a Signature Version 4 Authorization header
// and the access key but not the signature itself, so a check of the signature is put in front of it here,
// written from AWS's SigV4 specification (canonical request, string to sign, HMAC key chain): a request
// unsigned or signed with another secret gets 403 SignatureDoesNotMatch / AccessDenied, as from S3.
// Flags: --js-dir (tests/js), --store (s3rver's folder), --bucket, --dir, --prefix.
// --log FILE appends one JSON line per request: {method, url, range, signed}. Prints "ready PORT".
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
// s3rver is installed under tests/js (--js-dir), not beside this file.
const require = createRequire(join(opt('--js-dir', '.'), 'package.json'));
const S3rver = require('s3rver');
const bucket = opt('--bucket', 'models');
const dir = opt('--dir');
const prefix = opt('--prefix', '');
const store = opt('--store');
const log = opt('--log');
const secret = 'S3RVER';

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: store,
  configureBuckets: [{ name: bucket }],
  allowMismatchedSignatures: false,
});
const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
// Why the request's SigV4 signature is wrong, or '' when it is right.
function signatureProblem(req) {
  const auth = req.headers['authorization'] ?? '';
  const m = auth.match(/^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/);
  if (!m) return 'no AWS4-HMAC-SHA256 Authorization header';
  const [, , date, region, signed, signature] = m;
  const [path, query = ''] = req.url.split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((kv) => kv.split('=').map((x) => rfc3986(decodeURIComponent(x ?? ''))))
    .map(([k, v = '']) => `${k}=${v}`)
    .sort()
    .join('&');
  const names = signed.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim()}\n`).join('');
  const canonical = [req.method, path, canonicalQuery, canonicalHeaders, signed, req.headers['x-amz-content-sha256']].join('\n');
  const amzDate = req.headers['x-amz-date'];
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), 's3'), 'aws4_request');
  return hmac(key, toSign).toString('hex') === signature ? '' : 'signature does not match';
}
server.middleware.unshift(async (ctx, next) => {
  const problem = signatureProblem(ctx.req);
  if (log)
    appendFileSync(log, JSON.stringify({ method: ctx.method, url: ctx.url, range: ctx.get('range'), signed: !problem }) + '\n');
  if (problem) {
    ctx.status = 403;
    ctx.type = 'application/xml';
    const code = problem.startsWith('no ') ? 'AccessDenied' : 'SignatureDoesNotMatch';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${problem}</Message></Error>`;
    return;
  }
  await next();
});
const { port } = await server.run();

// Objects are put through the server's own S3 API path (its store), so listing and reads are s3rver's.
const walk = (d) =>
  readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
const files = dir ? walk(dir) : [];
const { createReadStream } = await import('node:fs');
for (const f of files) {
  const key = prefix + relative(dir, f);
  await server.store.putObject({
    bucket,
    key,
    metadata: { 'content-type': 'application/octet-stream' },
    content: createReadStream(f),
  });
}
console.log(`ready ${port}`);
