// Offline validation of deploy/kubernetes: every kustomization (the base and each overlay) is rendered with
// `kubectl kustomize`, then each resource is checked three ways, none of which needs a cluster:
//   - core kinds against the Kubernetes API types: kubernetes-models' JSON schemas (types, required fields,
//     enums), and kubernetes-types through `tsc --strict`, whose excess-property check on object literals
//     rejects any field the API does not have (the JSON schemas accept unknown fields);
//   - custom resources (KEDA ScaledObject, ServiceMonitor, PrometheusRule) against the openAPIV3Schema of
//     their published CRDs (tests/deploy/data/crds, sources in its README) with ajv, unknown fields
//     rejected as the API server's strict field validation does;
//   - deliberately broken copies (an unknown field, a wrong type) must be rejected by each validator.
// Usage:
//   node kube_validate.mjs validate KUBECTL REPO_DIR JS_DIR WORK_DIR [SHARED_DIR]
//     (with SHARED_DIR, each Deployment's memory limit is also checked against the sizing arithmetic for its
//     model, from the model's config.json in SHARED_DIR/hf-metadata/reconstructed)
//   node kube_validate.mjs extract KUBECTL REPO_DIR JS_DIR WORK_DIR
//     writes WORK_DIR/rules.yml (the PrometheusRule's groups, for promtool) and WORK_DIR/queries.json
//     ([{source, expr}]: every dashboard query, the prometheus-adapter rule's query, the KEDA trigger's) and
//     WORK_DIR/args.json (the server container's arguments).
// Exits non-zero on the first failed check, saying which resource and why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, kubectl, repoDir, jsDir, workDir, sharedDir] = process.argv.slice(2);
const require = createRequire(jsDir + '/package.json');
const YAML = require('yaml');
const Ajv = require('ajv');

const kubeDir = path.join(repoDir, 'deploy/kubernetes');
const kustomizations = ['base', 'overlays/hpa', 'overlays/keda', 'overlays/7b', 'overlays/local'];

function render(dir) {
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return YAML.parseAllDocuments(out).map((d) => {
    assert.equal(d.errors.length, 0, `${dir}: ${d.errors.join('; ')}`);
    return d.toJS();
  }).filter((r) => r && r.kind);  // kustomize v2.0.3 leaves `{}` where a patch deleted a resource
}

const id = (r) => `${r.kind}/${r.metadata?.name}`;

// ---- core kinds: kubernetes-models (schemas) and kubernetes-types (tsc, strict) ----

// apiVersion -> [kubernetes-models folder, kubernetes-types module]
const coreGroups = {
  v1: ['v1', 'core/v1'],
  'apps/v1': ['apps/v1', 'apps/v1'],
  'policy/v1': ['policy/v1', 'policy/v1'],
  'autoscaling/v2': ['autoscaling/v2', 'autoscaling/v2'],
};

async function modelsValidate(r) {
  const g = coreGroups[r.apiVersion];
  const mod = await import(pathToFileURL(`${jsDir}/node_modules/kubernetes-models/${g[0]}/index.js`).href);
  const Kind = mod[r.kind];
  assert.ok(Kind, `kubernetes-models has no ${r.apiVersion} ${r.kind}`);
  new Kind(r).validate();  // throws with the failing path
}

// One TypeScript file assigning every resource to its kubernetes-types type. `expectError` resources are
// written on one line after `// @ts-expect-error`: tsc fails if such a line compiles.
function tscCheck(entries, dir) {
  const imports = new Map();
  const lines = [];
  entries.forEach(({ resource: r, expectError }, i) => {
    const g = coreGroups[r.apiVersion];
    const alias = `${r.kind}_${g[1].replace(/\W/g, '_')}`;
    imports.set(alias, `import type { ${r.kind} as ${alias} } from '${jsDir}/node_modules/kubernetes-types/${g[1]}';`);
    if (expectError) lines.push('// @ts-expect-error: a deliberately broken manifest must not compile');
    lines.push(`export const r${i}: ${alias} = ${JSON.stringify(r, null, expectError ? 0 : 2)};`);
  });
  const file = path.join(dir, 'manifests.ts');
  fs.writeFileSync(file, [...imports.values(), ...lines].join('\n') + '\n');
  try {
    execFileSync(process.execPath, [`${jsDir}/node_modules/typescript/bin/tsc`, '--strict', '--noEmit', '--target',
      'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', file], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`tsc --strict rejected ${file}:\n${e.stdout}${e.stderr}`);
  }
}

// ---- custom resources: their CRDs' openAPIV3Schema ----

// The API server prunes (or, with strict field validation, rejects) fields a structural schema does not
// declare; JSON Schema accepts them unless told. So: additionalProperties false wherever properties are
// declared and the schema does not preserve unknown fields; x-kubernetes-int-or-string as its anyOf.
function strictSchema(s) {
  if (Array.isArray(s)) return s.map(strictSchema);
  if (!s || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-')) continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, strictSchema(ps)]))
                                : strictSchema(v);
  }
  if (s['x-kubernetes-int-or-string']) {
    delete out.type;
    if (!out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s.properties && !s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

function crdValidators() {
  // CRD patterns are Go (RE2) regular expressions: a leading (?i) is JavaScript's i flag.
  const regExp = (src, flags) => src.replace(/^\^?\(\?i\)/, (m) => (m.startsWith('^') ? '^' : '')) === src
    ? new RegExp(src, flags) : new RegExp(src.replace('(?i)', ''), flags + 'i');
  regExp.code = 'new RegExp';
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp } });
  const byKind = new Map();
  const crdDir = path.join(repoDir, 'tests/deploy/data/crds');
  for (const f of fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
    const crd = YAML.parse(fs.readFileSync(path.join(crdDir, f), 'utf8'));
    for (const v of crd.spec.versions) {
      const schema = strictSchema(v.schema.openAPIV3Schema);
      // The API server checks metadata against ObjectMeta itself; the CRD schema only says "object".
      byKind.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  return byKind;
}

function crdValidate(validators, r) {
  const v = validators.get(`${r.apiVersion} ${r.kind}`);
  assert.ok(v, `no vendored CRD schema for ${r.apiVersion} ${r.kind} (tests/deploy/data/crds)`);
  if (!v(r)) throw new Error(`${id(r)}: ${v.errors.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('; ')}`);
}

// ---- broken copies ----

const clone = (r) => structuredClone(r);
function brokenCopies(r) {
  const out = [];
  const add = (what, f) => { const c = clone(r); f(c); out.push({ what, resource: c }); };
  switch (r.kind) {
    case 'Deployment':
      add('unknown field spec.template.spec.containers[0].imagePullPolicyy', (c) => { c.spec.template.spec.containers[0].imagePullPolicyy = 'Always'; });
      add('wrong type spec.replicas "one"', (c) => { c.spec.replicas = 'one'; });
      break;
    case 'Service':
      add('unknown field spec.port', (c) => { c.spec.port = 8080; });
      add('wrong type spec.ports[0].port "http"', (c) => { c.spec.ports[0].port = 'http'; });
      break;
    case 'HorizontalPodAutoscaler':
      add('unknown field spec.minReplica', (c) => { c.spec.minReplica = 1; });
      add('wrong type spec.maxReplicas "8"', (c) => { c.spec.maxReplicas = '8'; });
      break;
    case 'ScaledObject':
      add('unknown field spec.minReplicas', (c) => { c.spec.minReplicas = 0; });
      add('wrong type spec.minReplicaCount "0"', (c) => { c.spec.minReplicaCount = '0'; });
      break;
    case 'ServiceMonitor':
      add('unknown field spec.endpoints[0].intervall', (c) => { c.spec.endpoints[0].intervall = '15s'; });
      add('wrong type spec.endpoints[0].port 8080', (c) => { c.spec.endpoints[0].port = 8080; });
      break;
    case 'PrometheusRule':
      add('unknown field spec.groups[0].rules[0].alertname', (c) => { c.spec.groups[0].rules[0].alertname = 'x'; });
      add('wrong type spec.groups[0].rules wrapped in an object', (c) => { c.spec.groups[0].rules = { rules: c.spec.groups[0].rules }; });
      break;
  }
  return out;
}

// ---- semantic checks the schemas cannot make ----

function checkDeployment(name, resources) {
  const d = resources.find((r) => r.kind === 'Deployment');
  const pod = d.spec.template.spec;
  const c = pod.containers.find((x) => x.name === 'r1serve');
  const arg = (flag) => c.args.find((a) => a.startsWith(flag + '='))?.slice(flag.length + 1);
  assert.deepEqual(c.ports.map((p) => p.containerPort), [8080], `${name}: container port`);
  // The model, threads and KV budget reach serve through its environment names, never as $(VAR) arguments
  // (podman kube play expands those only from 4.7).
  for (const a of c.args) assert.ok(!a.includes('$('), `${name}: argument ${a} needs $(VAR) expansion`);
  for (const v of ['HF_MODEL_ID', 'R1SERVE_THREADS', 'R1SERVE_KV_CACHE_MEMORY'])
    assert.ok(c.env.find((e) => e.name === v)?.valueFrom?.configMapKeyRef?.name.startsWith('r1serve-config'),
      `${name}: ${v} from the r1serve-config ConfigMap`);
  const drain = Number(arg('--drain-timeout'));
  const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
  assert.ok(pod.terminationGracePeriodSeconds > drain + preStop,
    `${name}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} must exceed preStop ${preStop} + --drain-timeout ${drain}`);
  assert.equal(pod.securityContext.runAsNonRoot, true, `${name}: runAsNonRoot`);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', `${name}: seccomp`);
  for (const k of [...(pod.initContainers ?? []), ...pod.containers]) {
    assert.equal(k.securityContext.readOnlyRootFilesystem, true, `${name}: ${k.name} read-only root`);
    assert.deepEqual(k.securityContext.capabilities.drop, ['ALL'], `${name}: ${k.name} drops all capabilities`);
    assert.equal(k.securityContext.allowPrivilegeEscalation, false, `${name}: ${k.name} no privilege escalation`);
    assert.deepEqual(k.resources.requests, k.resources.limits, `${name}: ${k.name} requests = limits (Guaranteed QoS)`);
    assert.ok(k.volumeMounts.some((m) => m.mountPath === '/tmp'), `${name}: ${k.name} writable /tmp`);
    const tokenEnv = k.env.find((e) => e.name === 'HF_TOKEN');
    if (tokenEnv) assert.ok(tokenEnv.valueFrom.secretKeyRef, `${name}: HF_TOKEN from a Secret`);
  }
  const tmp = pod.volumes.find((v) => v.name === 'tmp');
  assert.ok(tmp.emptyDir, `${name}: /tmp is an emptyDir`);
  const cm = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('r1serve-config'));
  if (name === 'overlays/local') {
    // The host's model folder instead of the Hub pull: no init container, the folder mounted read-only where
    // HF_MODEL_ID points, /models (the cache) an emptyDir, port 8080 on the host's loopback.
    assert.equal(pod.initContainers, undefined, `${name}: no init container`);
    const model = pod.volumes.find((v) => v.name === 'model');
    assert.equal(model.hostPath?.type, 'Directory', `${name}: model folder from a hostPath`);
    const mount = c.volumeMounts.find((m) => m.name === 'model');
    assert.ok(mount.readOnly && mount.mountPath === cm.data.HF_MODEL_ID, `${name}: model mounted read-only at HF_MODEL_ID`);
    assert.ok(pod.volumes.find((v) => v.name === 'model-cache').emptyDir, `${name}: cache emptyDir`);
    assert.deepEqual([c.ports[0].hostIP, c.ports[0].hostPort], ['127.0.0.1', 8080], `${name}: loopback hostPort`);
  } else {
    assert.deepEqual(pod.initContainers[0].args, ['pull', '$(HF_MODEL_ID)'], `${name}: init container pulls the model`);
    assert.ok(pod.volumes.find((v) => v.name === 'model-cache').persistentVolumeClaim, `${name}: PVC cache`);
  }
  // By number: podman kube play before 4.6 resolves no port name in a probe.
  for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe'])
    assert.equal(c[p]?.httpGet?.port, 8080, `${name}: ${p} on port 8080`);
  // Memory limit = weights + KV budget + process: the KV budget must fit below it.
  const gib = (q) => Number(q.replace(/Gi(B)?$/, ''));
  assert.ok(gib(cm.data.R1SERVE_KV_CACHE_MEMORY) < gib(c.resources.limits.memory), `${name}: KV budget under the memory limit`);
  assert.equal(cm.data.R1SERVE_THREADS, String(c.resources.limits.cpu), `${name}: --threads = CPU limit`);
}

// The sizing rule of deploy/kubernetes (docs/DEPLOY.md): memory limit = bf16 weights + KV budget + 0.5 GiB,
// rounded up to a whole GiB, from the model's architecture. Qwen2 parameters: embeddings and an untied
// lm_head, per layer q/k/v (with biases) and o projections, the gated MLP and two norms; the final norm.
function checkSizing(name, resources) {
  const cm = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('r1serve-config'));
  const model = cm.data.HF_MODEL_ID.split('/')[1];
  const cfgPath = path.join(sharedDir, 'hf-metadata/reconstructed', model, 'config.json');
  const c = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
  assert.equal(c.torch_dtype, 'bfloat16', cfgPath);
  const h = c.hidden_size, hd = h / c.num_attention_heads, kvDim = c.num_key_value_heads * hd;
  const perLayer = h * h + 2 * h * kvDim + h * h + (h + 2 * kvDim) + 3 * h * c.intermediate_size + 2 * h;
  const params = c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2) + c.num_hidden_layers * perLayer + h;
  const GiB = 2 ** 30;
  const kvPerToken = 2 * c.num_hidden_layers * kvDim * 2;  // K and V, every layer, bf16
  const kvBudget = Number(cm.data.R1SERVE_KV_CACHE_MEMORY.replace(/GiB$/, '')) * GiB;
  const need = Math.ceil((params * 2 + kvBudget + 0.5 * GiB) / GiB);
  const c0 = resources.find((r) => r.kind === 'Deployment').spec.template.spec.containers[0];
  assert.equal(c0.resources.limits.memory, `${need}Gi`, `${name}: memory limit for ${model}`);
  assert.equal(c0.resources.requests.memory, c0.resources.limits.memory, `${name}: requests = limits`);
  console.log(`${name}: ${model} ${(params / 1e9).toFixed(3)}e9 params = ${(params * 2 / GiB).toFixed(2)} GiB bf16, ` +
    `KV ${kvPerToken} B/token x ${Math.floor(kvBudget / kvPerToken)} tokens -> ${need}Gi`);
}

async function validate() {
  const validators = crdValidators();
  const tsEntries = [];
  const seen = new Set();
  let checked = 0;
  for (const k of kustomizations) {
    const resources = render(path.join(kubeDir, k));
    const kinds = resources.map((r) => r.kind);
    if (k === 'overlays/local') {
      // No PVC; the base's sizing, whatever model the host folder holds.
      assert.ok(!kinds.includes('PersistentVolumeClaim'), `${k}: PersistentVolumeClaim left out`);
      const sizing = (rs) => rs.find((r) => r.kind === 'Deployment').spec.template.spec.containers[0].resources;
      assert.deepEqual(sizing(resources), sizing(render(path.join(kubeDir, 'base'))), `${k}: the base's resources`);
    } else {
      assert.ok(resources.length >= 8, `${k}: only ${resources.length} resources rendered`);
      if (sharedDir) checkSizing(k, resources);
    }
    checkDeployment(k, resources);
    assert.equal(kinds.includes('HorizontalPodAutoscaler'), k === 'overlays/hpa' || k === 'overlays/7b', `${k}: HPA`);
    assert.equal(kinds.includes('ScaledObject'), k === 'overlays/keda', `${k}: ScaledObject`);
    if (k === 'overlays/keda') {
      const so = resources.find((r) => r.kind === 'ScaledObject');
      assert.equal(so.spec.minReplicaCount, 0, 'KEDA scales to zero');
      assert.equal(so.spec.triggers[0].type, 'prometheus');
    }
    for (const r of resources) {
      if (coreGroups[r.apiVersion]) {
        await modelsValidate(r);
        const key = JSON.stringify(r);  // overlays repeat base resources: compile each distinct one once
        if (!seen.has(key)) { seen.add(key); tsEntries.push({ resource: r }); }
      } else {
        crdValidate(validators, r);
      }
      ++checked;
      // Each validator must reject the broken copies of what it checks.
      for (const b of brokenCopies(r)) {
        if (coreGroups[r.apiVersion]) {
          if (b.what.startsWith('wrong type'))
            await assert.rejects(async () => modelsValidate(b.resource), `kubernetes-models accepted ${id(r)} with ${b.what}`);
          if (!seen.has('broken ' + b.what)) { seen.add('broken ' + b.what); tsEntries.push({ resource: b.resource, expectError: true }); }
        } else {
          assert.throws(() => crdValidate(validators, b.resource), `the ${r.kind} CRD schema accepted ${b.what}`);
        }
      }
    }
    console.log(`${k}: ${resources.length} resources valid (${[...new Set(kinds)].join(', ')})`);
  }
  tscCheck(tsEntries, workDir);
  console.log(`tsc --strict: ${tsEntries.filter((e) => !e.expectError).length} distinct resources compile, ` +
    `${tsEntries.filter((e) => e.expectError).length} broken copies rejected`);
  // A broken copy differs from a resource that compiles by one field only, so the error @ts-expect-error
  // absorbs on its line is that field's: tsc would fail on an unused directive if the copy compiled.
  // The image is overridable with kustomize `images:` (both containers follow).
  const over = path.join(workDir, 'image-override');
  fs.mkdirSync(over, { recursive: true });
  fs.writeFileSync(path.join(over, 'kustomization.yaml'),
    `bases:\n  - ${path.relative(over, path.join(kubeDir, 'base'))}\nimages:\n  - name: r1serve\n    newName: registry.example/r1serve\n    newTag: v1.2.3\n`);
  const dep = render(over).find((r) => r.kind === 'Deployment').spec.template.spec;
  for (const k of [...dep.initContainers, ...dep.containers]) assert.equal(k.image, 'registry.example/r1serve:v1.2.3');
  console.log(`ok: ${checked} rendered resources checked`);
}

function extract() {
  const hpa = render(path.join(kubeDir, 'overlays/hpa'));
  const keda = render(path.join(kubeDir, 'overlays/keda'));
  const rule = hpa.find((r) => r.kind === 'PrometheusRule');
  fs.writeFileSync(path.join(workDir, 'rules.yml'), YAML.stringify({ groups: rule.spec.groups }));
  const queries = [];
  const dash = JSON.parse(hpa.find((r) => r.metadata.name === 'r1serve-grafana-dashboard').data['r1serve.json']);
  for (const p of dash.panels)
    for (const t of p.targets) queries.push({ source: `dashboard panel "${p.title}" ${t.legendFormat}`, expr: t.expr });
  for (const v of dash.templating.list)
    if (v.type === 'query') queries.push({ source: `dashboard variable ${v.name}`, expr: v.query.query });
  // prometheus-adapter's query for `kubectl get --raw /apis/custom.metrics.k8s.io/v1beta1/namespaces/r1serve/
  // pods/*/vllm:num_requests_waiting`, its template filled in as the adapter does.
  const adapter = YAML.parse(hpa.find((r) => r.metadata.name === 'r1serve-prometheus-adapter').data['config.yaml']);
  for (const a of adapter.rules) {
    const series = a.seriesQuery.replace(/\{.*$/, '');
    const expr = a.metricsQuery.replace('<<.Series>>', series)
      .replace('<<.LabelMatchers>>', 'namespace="r1serve",pod=~"r1serve-.*"').replace('<<.GroupBy>>', 'pod');
    queries.push({ source: 'prometheus-adapter series', expr: a.seriesQuery });
    queries.push({ source: 'prometheus-adapter metrics (HPA)', expr });
  }
  const so = keda.find((r) => r.kind === 'ScaledObject');
  for (const t of so.spec.triggers) queries.push({ source: `KEDA trigger ${t.name}`, expr: t.metadata.query });
  fs.writeFileSync(path.join(workDir, 'queries.json'), JSON.stringify(queries, null, 2));
  // The server container's arguments, for the test to start r1serve with them.
  const server = hpa.find((r) => r.kind === 'Deployment').spec.template.spec.containers.find((c) => c.name === 'r1serve');
  fs.writeFileSync(path.join(workDir, 'args.json'), JSON.stringify(server.args));
  console.log(`${queries.length} queries, ${rule.spec.groups.reduce((n, g) => n + g.rules.length, 0)} rules`);
}

if (mode === 'validate') await validate();
else if (mode === 'extract') extract();
else throw new Error(`unknown mode ${mode}: validate or extract`);
