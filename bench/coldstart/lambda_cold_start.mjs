// Lambda cold start (issue 17): `r1serve lambda` started against the Runtime API double of the e2e tests, a
// {"prompt"} event sent through the real @aws-sdk/client-lambda at the same instant, as Lambda does on a cold
// invocation; prints the runtime's own "ready in" (init: the model load) and the wall time from process start
// to the answer (init + the first event, one token).
// Usage: node lambda_cold_start.mjs R1SERVE JS_DIR MODEL RUNS [extra r1serve lambda flags...]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { RuntimeApiDouble } from '../../tests/e2e/lambda_runtime_double.mjs';

const [r1serve, jsDir, model, runsArg, ...extra] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

for (let run = 1; run <= Number(runsArg || 3); run++) {
  const double = new RuntimeApiDouble(jsDir);
  const port = await double.start();
  const client = new LambdaClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1,
                                    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy' } });
  const t0 = performance.now();
  const child = spawn(r1serve, ['lambda', '--model', model, ...extra],
                      { env: { ...process.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const payload = new TextEncoder().encode(JSON.stringify({ prompt: 'Once upon a time', max_tokens: 1, temperature: 0 }));
  const r = await client.send(new InvokeCommand({ FunctionName: 'function', Payload: payload }));
  const wall = (performance.now() - t0) / 1000;
  const body = new TextDecoder().decode(r.Payload);
  if (r.FunctionError) throw new Error(`run ${run}: ${body}\n${log}`);
  const ready = log.match(/ready in ([0-9.]+) s/);
  console.log(`run ${run}: init (ready in) ${ready ? ready[1] : '?'} s, first answer ${wall.toFixed(2)} s after start`);
  child.kill('SIGTERM');
  await new Promise((res) => child.on('exit', res));
  double.close();
}
