// A test double of the AWS Lambda Runtime API (2018-06-01) on loopback, as the runtime's documentation gives
// it — GET /runtime/invocation/next (long poll; Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
// -Invoked-Function-Arn, -Trace-Id), POST /runtime/invocation/{id}/response, /runtime/invocation/{id}/error,
// /runtime/init/error — with the Runtime Interface Emulator's invoke route in front of it:
// POST /2015-03-31/functions/{name}/invocations (what @aws-sdk/client-lambda's Invoke calls).
import { randomUUID } from 'node:crypto';
import http from 'node:http';

export class RuntimeApiDouble {
  constructor() {
    this.queue = [];           // invocations not yet handed to the runtime
    this.waiting = [];         // parked GET /next responses
    this.inflight = new Map(); // id -> invocation
    this.posts = [];           // every runtime post: {kind, id, body, t}
    this.initError = null;
    this.timeoutMs = 30000;    // the function's timeout; the deadline of each invocation is now + this
  }

  async start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    return this.server.address().port;
  }

  close() {
    for (const w of this.waiting) w.destroy();
    this.server.closeAllConnections?.();
    this.server.close();
  }

  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    const json = (status, obj, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(obj));
    };
    let m;
    if (req.method === 'GET' && p === '/2018-06-01/runtime/invocation/next') {
      if (this.queue.length) return this.handOut(this.queue.shift(), res);
      this.waiting.push(res);
      return;
    }
    if (req.method === 'POST' && (m = p.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/))) {
      const inv = this.inflight.get(m[1]);
      if (!inv) return json(400, { errorMessage: 'unknown request id ' + m[1], errorType: 'InvalidRequestID' });
      this.inflight.delete(m[1]);
      const post = { kind: m[2], id: m[1], body: body.toString(), t: Date.now(), deadline: inv.deadline,
                     errorType: req.headers['lambda-runtime-function-error-type'] };
      this.posts.push(post);
      inv.resolve({ payload: body, functionError: m[2] === 'error' ? 'Unhandled' : undefined });
      return json(202, { status: 'OK' });
    }
    if (req.method === 'POST' && p === '/2018-06-01/runtime/init/error') {
      this.initError = { body: body.toString(), errorType: req.headers['lambda-runtime-function-error-type'] };
      this.posts.push({ kind: 'init-error', body: body.toString(), t: Date.now() });
      for (const inv of [...this.queue, ...this.inflight.values()])
        inv.resolve({ payload: Buffer.from(this.initError.body), functionError: 'Unhandled' });
      this.queue = [];
      this.inflight.clear();
      return json(202, { status: 'OK' });
    }
    if (req.method === 'POST' && (m = p.match(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/))) {
      const out = await this.invoke(body);
      const headers = { 'x-amz-executed-version': '$LATEST' };
      if (out.functionError) headers['x-amz-function-error'] = out.functionError;
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return res.end(out.payload);
    }
    json(404, { errorMessage: 'no route ' + req.method + ' ' + p, errorType: 'NotFound' });
  }

  invoke(event) {
    if (this.initError) return Promise.resolve({ payload: Buffer.from(this.initError.body), functionError: 'Unhandled' });
    return new Promise((resolve) => {
      const inv = { id: randomUUID(), event, deadline: Date.now() + this.timeoutMs, resolve };
      if (this.waiting.length) this.handOut(inv, this.waiting.shift());
      else this.queue.push(inv);
    });
  }

  handOut(inv, res) {
    this.inflight.set(inv.id, inv);
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': inv.id,
      'lambda-runtime-deadline-ms': String(inv.deadline),
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:r1serve',
      'lambda-runtime-trace-id': 'Root=1-00000000-000000000000000000000000;Sampled=0',
    });
    res.end(inv.event);
  }
}
