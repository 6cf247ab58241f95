/**
 * The Kubernetes manifests against the server they deploy: the env/args parse with the server's own config loader,
 * the HPA's metric is one the server exports, probes hit real routes, and the drain fits the grace period.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../server/config.ts';
import { Metrics } from '../server/metrics/metrics.ts';

// parsed YAML walked by path; a wrong path fails the assertion that reads it
type Doc = Record<string, any>;

async function load(file: string): Promise<Doc[]> {
  const docs = parseAllDocuments(await readFile(`deploy/k8s/${file}`, 'utf8'));
  for (const d of docs) if (d.errors.length > 0) throw d.errors[0];
  return docs.map((d) => d.toJS() as Doc);
}

t.test('deployment: config parses with the server loader, probes and drain budget', async (t) => {
  const [dep] = await load('deployment.yaml');
  const pod = dep!['spec']['template']['spec'];
  const c = pod['containers'][0];
  const env: Record<string, string> = {};
  for (const e of c['env'] as Array<{ name: string; value?: string }>) if (e.value !== undefined) env[e.name] = e.value;
  const loaded = loadConfig(c['args'] as string[], env);
  if (loaded.help) throw new Error('args asked for help');
  t.equal(loaded.config.port, 8080);
  t.equal(loaded.config.maxSessions, 48);
  t.equal(c['ports'][0]['containerPort'], loaded.config.port);
  t.equal(c['readinessProbe']['httpGet']['path'], '/readyz');
  t.equal(c['livenessProbe']['httpGet']['path'], '/healthz');
  const preStopS = Number(c['lifecycle']['preStop']['exec']['command'][1]);
  t.equal(preStopS, 5);
  t.ok(
    pod['terminationGracePeriodSeconds'] * 1000 > preStopS * 1000 + loaded.config.drainTimeoutMs,
    'SIGKILL comes only after preStop + the server drain deadline',
  );
  t.equal(dep!['spec']['strategy']['rollingUpdate']['maxUnavailable'], 0);
  t.equal(c['resources']['limits']['cpu'], undefined, 'no CPU limit (throttling = late frames)');
});

t.test('HPA scales on a gauge the server exports, targeting below the admission bound', async (t) => {
  const [hpa] = await load('hpa.yaml');
  const [dep] = await load('deployment.yaml');
  const metric = hpa!['spec']['metrics'][0]['pods'];
  const names = (await new Metrics().registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type) }));
  t.same(names.find((m) => m.name === metric['metric']['name']), { name: 'livestem_sessions_active', type: 'gauge' });
  const maxSessions = Number(
    (dep!['spec']['template']['spec']['containers'][0]['env'] as Array<{ name: string; value?: string }>).find((e) => e.name === 'LIVESTEM_MAX_SESSIONS')!.value,
  );
  const target = Number(metric['target']['averageValue']);
  t.ok(target < maxSessions && target >= 0.5 * maxSessions, `target ${target} vs max ${maxSessions}`);
  t.equal(hpa!['spec']['scaleTargetRef']['name'], dep!['metadata']['name']);
  const [rules] = await load('prometheus-adapter-rules.yaml');
  t.match(rules!['data']['config.yaml'], /seriesQuery: 'livestem_sessions_active/);
});

t.test('service, PDB and kustomization select the deployment pods', async (t) => {
  const [svc] = await load('service.yaml');
  const [pdb] = await load('pdb.yaml');
  const [dep] = await load('deployment.yaml');
  const labels = dep!['spec']['template']['metadata']['labels'];
  t.same(svc!['spec']['selector'], labels);
  t.same(pdb!['spec']['selector']['matchLabels'], labels);
  t.equal(svc!['spec']['ports'][0]['targetPort'], 'http');
  t.equal(svc!['spec']['sessionAffinity'], 'ClientIP');
  const [kust] = await load('kustomization.yaml');
  t.same(kust!['resources'], ['deployment.yaml', 'service.yaml', 'hpa.yaml', 'pdb.yaml', 'prometheus-adapter-rules.yaml']);
});

t.test('GPU overlay switches the execution provider the server config accepts and asks for a GPU', async (t) => {
  const [kust] = await load('../k8s-gpu/kustomization.yaml');
  t.same(kust!['resources'], ['../k8s']);
  const ops = parseAllDocuments(kust!['patches'][0]['patch'] as string)[0]!.toJS() as Array<{ path: string; value: unknown }>;
  const env = ops.find((o) => o.path.endsWith('/env/0'))!.value as { name: string; value: string };
  const [dep] = await load('deployment.yaml');
  t.equal(dep!['spec']['template']['spec']['containers'][0]['env'][0]['name'], env.name, 'the patch replaces the provider entry');
  const loaded = loadConfig([], { [env.name]: env.value });
  t.equal(loaded.help === false && loaded.config.provider, 'cuda');
  t.ok(ops.some((o) => o.path.endsWith('nvidia.com~1gpu') && o.value === 1));
  t.equal(kust!['images'][0]['newTag'], 'gpu');
});
