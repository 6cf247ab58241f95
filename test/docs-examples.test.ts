/**
 * The docs a client is written from stay true to the code:
 *
 * - every fenced ```ts runnable / ```ts typecheck block of client-sdk/README.md and docs/protocol.md compiles against
 *   the SDK's types, and every runnable one runs to completion against a real server (the conventions are in
 *   client-sdk/README.md, "Examples are tested");
 * - docs/metrics.md lists exactly the metrics the server registers (name, type, labels), and its Prometheus scrape
 *   configuration passes `promtool check config`;
 * - the latency-by-rate table of docs/protocol.md is what the rate planner computes;
 * - `--help` names every environment variable the WebRTC transport reads and states its fixed timeouts, as
 *   docs/protocol.md §9 does;
 * - links between the docs point at files and headings that exist;
 * - TypeDoc generates the SDK reference without warnings.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import { helpText } from '../server/config.ts';
import { readWav, writeWav } from '../server/dsp/wav.ts';
import { Metrics } from '../server/metrics/metrics.ts';
import { planRates } from '../server/pipeline/rate-plan.ts';
import { WebRtcMetrics } from '../server/transport/webrtc/webrtc-metrics.ts';
import { WEBRTC_FIXED_TIMEOUTS, iceOptionsFromEnv } from '../server/transport/webrtc/webrtc-plugin.ts';
import { SUPPORTED_SAMPLE_RATES_HZ } from '../client-sdk/src/protocol/index.ts';
import { exportTestModel, startTestServer, testSong } from './helpers/server-harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const SDK_INDEX = join(root, 'client-sdk/src/index.ts');
/** Relative imports in doc examples resolve from here (the README's file example lives there). */
const EXAMPLES_DIR = join(root, 'client-sdk/examples');
const EXAMPLE_DOCS = ['client-sdk/README.md', 'docs/protocol.md'];
const API_KEY = 'docs-examples-api-key-0123456789';
const RUN_TIMEOUT_MS = 60_000;

interface CodeBlock {
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  tags: string[];
  code: string;
}

function codeBlocks(doc: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S+)(?:[ \t]+(.*))?$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    blocks.push({ doc, line: start + 1, lang: open[1]!, tags: (open[2] ?? '').split(/\s+/).filter(Boolean), code: body.join('\n') + '\n' });
  }
  return blocks;
}

const docText = new Map<string, string>();
for (const doc of [...EXAMPLE_DOCS, 'docs/metrics.md']) docText.set(doc, await readFile(join(root, doc), 'utf8'));
const examples = EXAMPLE_DOCS.flatMap((doc) => codeBlocks(doc, docText.get(doc)!)).filter(
  (b) => b.lang === 'ts' && (b.tags.includes('runnable') || b.tags.includes('typecheck')),
);
const where = (b: CodeBlock): string => `${b.doc}:${b.line}`;

/** Temporary files go under the repository's ignored tmp/, so bare imports (`ws`, `tsx`) resolve as in the repo. */
await mkdir(join(root, 'tmp'), { recursive: true });
const scratch = await mkdtemp(join(root, 'tmp', 'docs-examples-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));

/** One real server for the tests that need one: the random test model, with an API key. */
let testServer: Promise<{ url: string; httpUrl: string }> | undefined;
function sharedServer(): Promise<{ url: string; httpUrl: string }> {
  testServer ??= (async () => {
    const model = await exportTestModel();
    t.teardown(() => model.cleanup());
    const { server, url } = await startTestServer(model.modelsDir, { apiKey: API_KEY });
    t.teardown(() => server.close());
    return { url, httpUrl: server.httpUrl };
  })();
  return testServer;
}

/** The block as a module at `file`: SDK imports point at the SDK source, relative ones resolve from EXAMPLES_DIR. */
function moduleSource(block: CodeBlock, file: string): string {
  const from = dirname(file);
  const rel = (target: string): string => {
    const r = relative(from, target).split(sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  return block.code.replace(/(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\2/g, (whole, lead: string, quote: string, spec: string) => {
    if (spec === '@livestem/client' || spec === '/sdk/livestem.js') return `${lead}${quote}${rel(SDK_INDEX)}${quote}`;
    if (spec.startsWith('./') || spec.startsWith('../')) return `${lead}${quote}${rel(resolve(EXAMPLES_DIR, spec))}${quote}`;
    return whole;
  });
}

t.test('the docs have runnable and type-checked examples, with the markers the README describes', async (t) => {
  t.ok(examples.some((b) => b.doc === 'docs/protocol.md' && b.tags.includes('runnable')), 'protocol.md §8 minimal client is runnable');
  t.ok(examples.filter((b) => b.doc === 'client-sdk/README.md' && b.tags.includes('runnable')).length >= 3, 'README: Node examples are runnable');
  t.ok(examples.filter((b) => b.doc === 'client-sdk/README.md' && b.tags.includes('typecheck')).length >= 2, 'README: browser examples are type-checked');
  const unmarked = EXAMPLE_DOCS.flatMap((doc) => codeBlocks(doc, docText.get(doc)!)).filter((b) => b.lang === 'ts' && b.tags.length === 0);
  t.same(unmarked.map(where), [], 'every ts block is marked runnable or typecheck');
});

t.test('the README file example is examples/separate-file.ts, verbatim', async (t) => {
  const file = await readFile(join(EXAMPLES_DIR, 'separate-file.ts'), 'utf8');
  const block = examples.find((b) => b.doc === 'client-sdk/README.md' && b.code.includes('readWav(process.argv[2]!)'));
  t.ok(block, 'README shows the file example');
  t.equal(block?.code, file);
});

t.test('every example compiles against the SDK types (strict, DOM + Node)', async (t) => {
  const dir = join(scratch, 'typecheck');
  await mkdir(dir);
  const files: string[] = [];
  const origin = new Map<string, CodeBlock>();
  for (const [i, block] of examples.entries()) {
    const file = join(dir, `example-${i}.ts`);
    await writeFile(file, moduleSource(block, file));
    files.push(file);
    origin.set(file, block);
  }
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file === undefined || origin.has(resolve(d.file.fileName)));
  const report = diagnostics.map((d) => {
    const block = d.file ? origin.get(resolve(d.file.fileName)) : undefined;
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const at = block && pos ? `${block.doc}:${block.line + 1 + pos.line}` : 'config';
    return `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  t.same(report, [], `${files.length} examples type-check`);
});

t.test('runnable examples run to completion against a real server', async (t) => {
  const { url } = await sharedServer();
  const rate = 44100;
  const song = testSong(2 * rate, rate, 2, 11);

  // What each known example must print (and leave behind); any other runnable block must exit 0.
  const expectations: { marker: string; stdout: RegExp[]; check?: (cwd: string) => Promise<void> }[] = [
    {
      marker: 'readWav(process.argv[2]!)',
      stdout: [/latency 17\.4\d* ms, model lstm/, new RegExp(`${song[0]!.length} samples per stem, \\d+ late frames`)],
      check: async (cwd) => {
        for (const kind of ['vocals', 'accompaniment']) {
          const wav = await readWav(join(cwd, `${kind}.wav`));
          t.equal(wav.channels[0]!.length, song[0]!.length, `${kind}.wav is as long as the input`);
        }
      },
    },
    { marker: "import WebSocket from 'ws'", stdout: [/done \{"type":"done","reason":"end","inputSamples":44100,"outputSamples":44100,/, /received \[\[1,44100\],\[2,44100\]\]/, /closed 1000/] },
    {
      marker: "streamId: 'readme-tour'",
      stdout: [/latency 978 samples \(20\.375 ms\)/, /vocal gain 0 from output offset \d+/, /\d+ samples in, \d+ out, \d+ model steps, [\d.]+ ms processing per hop/, /done: 96000 samples per kind; received karaoke 96000, vocals 96000/, /closed 1000/],
    },
    { marker: "'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE'", stdout: [/resample first: sampleRateHz 96000 is not one of .* \(retryable: false\)/] },
  ];

  const runnable = examples.filter((b) => b.tags.includes('runnable'));
  for (const expectation of expectations) {
    t.ok(runnable.some((b) => b.code.includes(expectation.marker)), `a runnable example contains ${expectation.marker}`);
  }
  for (const [i, block] of runnable.entries()) {
    const cwd = await mkdtemp(join(scratch, `run-${i}-`));
    await writeWav(join(cwd, 'song.wav'), song, rate, 'f32');
    const file = join(cwd, 'example.ts');
    await writeFile(file, moduleSource(block, file));
    const result = await runNode(['--import', 'tsx', file, 'song.wav', url], cwd, { ...process.env, LIVESTEM_URL: url, LIVESTEM_API_KEY: API_KEY });
    const output = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    t.equal(result.code, 0, `${where(block)} exits 0 (${result.ms.toFixed(0)} ms)\n${output}`);
    const expectation = expectations.find((e) => block.code.includes(e.marker));
    for (const pattern of expectation?.stdout ?? [/\S/]) t.match(result.stdout, pattern, `${where(block)} prints ${pattern}`);
    await expectation?.check?.(cwd);
  }
});

function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

interface MetricRow {
  name: string;
  type: string;
  labels: string[];
}

function documentedMetrics(text: string): MetricRow[] {
  return text
    .split('\n')
    .filter((line) => /^\| `[a-z_:][a-z0-9_:]*` \|/.test(line))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      const labels = cells[3] === '–' ? [] : [...cells[3]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { name: cells[1]!.replaceAll('`', ''), type: cells[2]!, labels };
    });
}

t.test('docs/metrics.md lists every metric the server registers, with its type and labels', async (t) => {
  const metrics = new Metrics();
  new WebRtcMetrics(metrics.registry);
  const registered = await metrics.registry.getMetricsAsJSON();
  const documented = new Map(documentedMetrics(docText.get('docs/metrics.md')!).map((row) => [row.name, row]));
  t.ok(registered.length > 50, `${registered.length} metrics registered`);
  for (const metric of registered) {
    const row = documented.get(metric.name);
    t.ok(row, `${metric.name} is documented`);
    if (!row) continue;
    t.equal(row.type, metric.type, `${metric.name} type`);
    const labelNames = (metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    t.same([...row.labels].sort(), [...labelNames].sort(), `${metric.name} labels`);
  }
  const names = new Set(registered.map((m) => m.name));
  for (const name of documented.keys()) {
    if (name.startsWith('livestem_')) t.ok(names.has(name), `documented ${name} exists in the server`);
  }
});

t.test('the Prometheus scrape config in docs/metrics.md is valid, and /metrics takes the API key as bearer token', async (t) => {
  const block = codeBlocks('docs/metrics.md', docText.get('docs/metrics.md')!).find((b) => b.tags.includes('prometheus-config'));
  t.ok(block, 'metrics.md has a prometheus-config block');
  const dir = await mkdtemp(join(scratch, 'prometheus-'));
  const keyFile = join(dir, 'api-key');
  await writeFile(keyFile, API_KEY);
  const config = join(dir, 'prometheus.yml');
  const text = block?.code.replace(/credentials_file: \S+/, `credentials_file: ${keyFile}`) ?? '';
  t.match(text, keyFile, 'credentials_file replaced');
  await writeFile(config, text);
  const promtool = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
  t.equal(promtool.error, undefined, 'promtool runs (installed by scripts/setup-system.sh)');
  t.equal(promtool.status, 0, `promtool check config: ${promtool.stdout}${promtool.stderr}`);

  const { httpUrl } = await sharedServer();
  const anonymous = await fetch(`${httpUrl}/metrics`);
  t.equal(anonymous.status, 401, 'without the key: 401');
  t.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="livestem"');
  const scraped = await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
  t.equal(scraped.status, 200, 'with Authorization: Bearer <key>: 200');
  t.match(await scraped.text(), /^livestem_sessions_active \d+$/m);
});

t.test('docs/protocol.md latency-by-rate table is what the rate planner computes', async (t) => {
  const doc = docText.get('docs/protocol.md')!;
  const marker = /<!-- latency-table: nFft (\d+), hop (\d+), model rate (\d+) -->\n([\s\S]*?)\n\n/.exec(doc);
  t.ok(marker, 'table marker present');
  if (!marker) return;
  const [nFft, hop, modelRate] = [Number(marker[1]), Number(marker[2]), Number(marker[3])];
  const manifest = JSON.parse(await readFile(join(root, 'models/lstm/manifest.json'), 'utf8')) as { sampleRateHz: number; stft: { nFft: number; hopSamples: number } };
  t.same([manifest.stft.nFft, manifest.stft.hopSamples, manifest.sampleRateHz], [nFft, hop, modelRate], 'the table is for the shipped default model');
  const rows = marker[4]!.split('\n').slice(2);
  t.equal(rows.length, SUPPORTED_SAMPLE_RATES_HZ.length, 'one row per input rate');
  for (const [i, inRate] of SUPPORTED_SAMPLE_RATES_HZ.entries()) {
    const cells = rows[i]!.split('|').map((c) => c.trim()).filter(Boolean);
    t.equal(Number(cells[0]), inRate, `row ${i} is input ${inRate} Hz`);
    const expected = SUPPORTED_SAMPLE_RATES_HZ.map((outRate) => ((planRates(inRate, modelRate, outRate, nFft - hop).latencyOutputSamples / outRate) * 1000).toFixed(1));
    t.same(cells.slice(1), expected, `latency from ${inRate} Hz`);
  }
});

t.test('--help names every WebRTC/ICE environment variable and the fixed WebRTC timeouts, as protocol.md §9 does', async (t) => {
  const help = helpText();
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, key) {
      if (typeof key !== 'string') return undefined;
      read.add(key);
      return key.endsWith('PORT_RANGE') ? '40000-40100' : 'x';
    },
  });
  iceOptionsFromEnv(env);
  t.ok(read.size >= 5, `iceOptionsFromEnv reads ${[...read].join(', ')}`);
  for (const name of read) t.match(help, new RegExp(`^\\s+${name}\\s`, 'm'), `--help lists ${name}`);
  t.match(help, /LIVESTEM_ICE_CREDENTIAL\s+TURN credential \(secret\)/, 'the TURN credential is marked secret');
  t.match(help, /Environment only/);
  t.match(help, /LIVESTEM_API_KEY \(secret/);
  const s = (ms: number): string => `${ms / 1000} s`;
  const fixed = WEBRTC_FIXED_TIMEOUTS;
  t.match(help, `${s(fixed.stallTimeoutMs)} without input RTP (stalled)`);
  t.match(help, `${s(fixed.mediaStartTimeoutMs)} without any after the answer (no-media)`);
  t.match(help, `stats every ${s(fixed.statsIntervalMs)}`);
  t.match(help, `within ${s(fixed.bodyTimeoutMs)}`);
  t.match(help, `waits at most ${s(fixed.iceGatherTimeoutMs)}`);

  const protocol = docText.get('docs/protocol.md')!;
  const row = (phrase: string): string | undefined => protocol.split('\n').find((line) => line.startsWith('| ') && line.includes(phrase));
  t.match(row('ends a live stream (`stalled`)'), `| ${s(fixed.stallTimeoutMs)} |`);
  t.match(row('after the answer ends it (`no-media`)'), `| ${s(fixed.mediaStartTimeoutMs)} |`);
  t.match(row('pushed on the DataChannel every'), `| ${s(fixed.statsIntervalMs)} |`);
  t.match(row('body must arrive within'), `| ${s(fixed.bodyTimeoutMs)} |`);
  t.match(row('ICE candidate gathering for the answer'), `| ${s(fixed.iceGatherTimeoutMs)} |`);
  for (const name of read) t.match(protocol, `\`${name}\``, `protocol.md §9 names ${name}`);
});

/** GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen; repeats get -1, -2, … */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

t.test('links between the docs point at files and headings that exist', async (t) => {
  for (const [doc, text] of docText) {
    const prose = text.replace(/^```[\s\S]*?^```$/gm, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = match[1]!;
      if (/^[a-z]+:/.test(link)) continue; // http(s), mailto
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? join(root, doc) : resolve(dirname(join(root, doc)), path);
      t.ok(existsSync(target), `${doc}: ${link} exists`);
      if (anchor === undefined || !target.endsWith('.md') || !existsSync(target)) continue;
      t.ok(anchors(await readFile(target, 'utf8')).has(anchor), `${doc}: ${link} names a heading`);
    }
  }
});

t.test('TypeDoc generates the SDK reference (npm run docs:sdk) without warnings', async (t) => {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');
  const out = join(scratch, 'sdk-api');
  const result = spawnSync(process.execPath, [bin, '--options', 'client-sdk/typedoc.json', '--out', out, '--treatWarningsAsErrors'], { cwd: root, encoding: 'utf8' });
  t.equal(result.status, 0, `typedoc: ${result.stdout}${result.stderr}`);
  for (const file of ['index.md', 'protocol.md']) t.ok(existsSync(join(out, file)), `${file} generated`);
  const index = await readFile(join(out, 'index.md'), 'utf8').catch(() => '');
  for (const api of ['connect', 'separateMediaStream', 'streamAudioNode', 'LivestemSession', 'SeparatedMediaStreams', 'RtcEvents', 'SessionEvents']) {
    t.match(index, new RegExp(`^#+ ${api}\\b`, 'm'), `reference documents ${api}`);
  }
});
