// deploy/kubernetes/overlays/local as a user plays it: `kubectl kustomize` renders it, and every rendered
// resource goes to `podman kube play` (podman plays the Deployment and its ConfigMaps and ignores the kinds
// it does not play). Only what must differ on this machine is changed, each a value the render must hold:
//   - the image: r1serve:latest → the image the container tests built;
//   - the model hostPath → a folder holding the shared tiny model (stories260K). That model has no chat
//     template, which an R1 distill's tokenizer_config.json carries, so the folder gets copies of its files
//     with the R1 distill template put into tokenizer_config.json;
//   - the hostPort 8080 and the Deployment's name (hence the pod's): several checkouts' tests share this
//     machine's podman, and 8080 may be taken.
// Usage: node kube_play_local.mjs KUBECTL REPO_DIR JS_DIR SHARED_DIR WORK_DIR IMAGE HOST_PORT NAME
// Writes WORK_DIR/play.yaml and WORK_DIR/model/. Exits non-zero, saying why, when the render lacks a value.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [kubectl, repoDir, jsDir, sharedDir, workDir, image, hostPort, name] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const YAML = require('yaml');

const overlay = path.join(repoDir, 'deploy/kubernetes/overlays/local');
const rendered = execFileSync(kubectl, ['kustomize', overlay], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const docs = YAML.parseAllDocuments(rendered).map((d) => d.toJS()).filter((r) => r && r.kind);

const deployments = docs.filter((r) => r.kind === 'Deployment');
assert.equal(deployments.length, 1, 'one Deployment rendered');
const d = deployments[0];
assert.equal(d.metadata.name, 'r1serve');
d.metadata.name = name;
const pod = d.spec.template.spec;
for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
  assert.equal(c.image, 'r1serve:latest', `${c.name}: image`);
  c.image = image;
}
const server = pod.containers.find((c) => c.name === 'r1serve');
const port = server.ports.find((p) => p.containerPort === 8080);
assert.equal(port.hostPort, 8080, 'hostPort');
port.hostPort = Number(hostPort);
const model = pod.volumes.find((v) => v.name === 'model');
assert.ok(model?.hostPath?.path, 'the model volume is a hostPath');

const modelDir = path.join(workDir, 'model');
const source = path.join(sharedDir, 'models/stories260K-hf');
fs.mkdirSync(modelDir, { recursive: true });
for (const f of fs.readdirSync(source)) {
  if (fs.statSync(path.join(source, f)).isFile()) fs.copyFileSync(path.join(source, f), path.join(modelDir, f));
}
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(source, 'tokenizer_config.json'), 'utf8'));
tokenizerConfig.chat_template = fs.readFileSync(
  path.join(sharedDir, 'chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja'), 'utf8');
fs.writeFileSync(path.join(modelDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
model.hostPath.path = modelDir;

fs.writeFileSync(path.join(workDir, 'play.yaml'), docs.map((r) => YAML.stringify(r)).join('---\n'));
console.log(`${docs.length} resources (${docs.map((r) => r.kind).join(', ')}); Deployment ${name}, ` +
  `${image}, model ${modelDir}, 127.0.0.1:${hostPort}`);
