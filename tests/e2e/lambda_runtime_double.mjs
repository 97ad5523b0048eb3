// A test double of the AWS Lambda Runtime API (2018-06-01) on loopback, as the runtime's documentation gives
// it — GET /runtime/invocation/next (long poll; Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
// -Invoked-Function-Arn, -Trace-Id), POST /runtime/invocation/{id}/response, /runtime/invocation/{id}/error,
// /runtime/init/error — with the Runtime Interface Emulator's invoke route in front of it:
// POST /2015-03-31/functions/{name}/invocations (what @aws-sdk/client-lambda's Invoke calls) and
// POST /2021-11-15/functions/{name}/response-streaming-invocations (InvokeWithResponseStream: the runtime's
// streamed /response — Lambda-Runtime-Function-Response-Mode: streaming, chunked — relayed piece by piece as
// PayloadChunk events and an InvokeComplete, in the event-stream framing the pinned @smithy/eventstream-codec
// encodes). A streamed response to a plain Invoke is gathered whole, as Lambda buffers it.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';

export class RuntimeApiDouble {
  // jsDir: where the pinned npm packages are (tests/js), for the event-stream codec.
  constructor(jsDir) {
    if (jsDir) {
      const require = createRequire(jsDir + '/package.json');
      const { EventStreamCodec } = require('@smithy/eventstream-codec');
      this.codec = new EventStreamCodec((bytes) => new TextDecoder().decode(bytes), (text) => new TextEncoder().encode(text));
    }
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
    const streamed = req.headers['lambda-runtime-function-response-mode'] === 'streaming';
    let m0;
    if (req.method === 'POST' && streamed && (m0 = req.url.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/response$/)))
      return this.streamedResponse(m0[1], req, res);
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
    if (req.method === 'POST' && (m = p.match(/^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/)))
      return this.invokeStreaming(body, res);
    if (req.method === 'POST' && (m = p.match(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/))) {
      const out = await this.invoke(body);
      const headers = { 'x-amz-executed-version': '$LATEST' };
      if (out.functionError) headers['x-amz-function-error'] = out.functionError;
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return res.end(out.payload);
    }
    json(404, { errorMessage: 'no route ' + req.method + ' ' + p, errorType: 'NotFound' });
  }

  // The runtime's streamed /response: each piece goes to the invocation's listener as it arrives.
  async streamedResponse(id, req, res) {
    const inv = this.inflight.get(id);
    if (!inv) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ errorMessage: 'unknown request id ' + id, errorType: 'InvalidRequestID' }));
    }
    this.inflight.delete(id);
    const post = { kind: 'response', id, streamed: true, contentType: req.headers['content-type'],
                   chunked: req.headers['transfer-encoding'] === 'chunked', pieces: [], deadline: inv.deadline };
    for await (const piece of req) {
      post.pieces.push({ t: Date.now(), bytes: piece });
      inv.onPiece?.(piece);
    }
    post.t = Date.now();
    post.body = Buffer.concat(post.pieces.map((p) => p.bytes)).toString('latin1');
    this.posts.push(post);
    inv.resolve({ payload: Buffer.concat(post.pieces.map((p) => p.bytes)) });
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'OK' }));
  }

  // InvokeWithResponseStream: the pieces as PayloadChunk events while they come, then InvokeComplete.
  async invokeStreaming(event, res) {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amz-executed-version': '$LATEST' });
    const message = (type, body) => this.codec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':message-type': { type: 'string', value: 'event' },
        ':content-type': { type: 'string', value: type === 'PayloadChunk' ? 'application/octet-stream' : 'application/json' },
      },
      body,
    });
    const out = await this.invoke(event, (piece) => res.write(message('PayloadChunk', new Uint8Array(piece))));
    const complete = out.functionError ? { ErrorCode: out.functionError, ErrorDetails: out.payload.toString() } : {};
    res.end(message('InvokeComplete', new TextEncoder().encode(JSON.stringify(complete))));
  }

  invoke(event, onPiece) {
    if (this.initError) return Promise.resolve({ payload: Buffer.from(this.initError.body), functionError: 'Unhandled' });
    return new Promise((resolve) => {
      const inv = { id: randomUUID(), event, deadline: Date.now() + this.timeoutMs, resolve, onPiece };
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
