/**
 * `npm start` runs the compiled server, not tsx: it builds dist/ when an input changed (scripts/build.ts --if-stale),
 * then `exec`s `node dist/server/main.js`. Checked here end to end: the shipped models load from models/, /healthz
 * answers, the demo page and SDK bundle come prebuilt from dist/ (linked source maps, not the in-process build's
 * inline ones), a stream is separated by the compiled engine workers (their entry is emitted beside main.js),
 * SIGTERM reaches the server through npm and it drains and exits 0. And the compiled server only imports
 * production dependencies, which is what lets the Docker image install with `npm ci --omit=dev --omit=optional`.
 */
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BROWSER_BUNDLES, STATIC_FILES } from '../server/demo/demo-plugin.ts';
import { StreamClient, streamSignal, testSong } from './helpers/server-harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

t.test('npm start: builds dist/ if stale, serves from compiled JavaScript, drains on SIGTERM', async (t) => {
  const child = spawn('npm', ['start', '--', '--port', '0', '--host', '127.0.0.1', '--drain-timeout-ms', '1000'], {
    cwd: root,
    env: { ...process.env, LIVESTEM_MODELS_DIR: 'models', LIVESTEM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs: Array<Record<string, unknown>> = [];
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return; // npm's own "> livestem@0.1.0 start" banner
      const record = JSON.parse(line) as Record<string, unknown>;
      logs.push(record);
      if (record['msg'] === 'listening') resolve(record['port'] as number);
    });
    void exited.then((code) => reject(new Error(`npm start exited early with ${code}: ${stderr}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  t.ok(logs.some((l) => l['msg'] === 'model loaded' && l['model'] === 'lstm'), 'the shipped model loads from models/');
  t.notMatch(stderr, /npm warn/i, 'npm prints no warnings');

  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 200, '/healthz');
  t.same(await health.json(), { status: 'ok' });

  const page = await fetch(`${base}/`);
  t.equal(page.status, 200);
  t.match(await page.text(), /<script type="module" src="\/demo.js">/, 'demo page');
  for (const { path, file } of BROWSER_BUNDLES) {
    const res = await fetch(`${base}${path}`);
    t.equal(res.status, 200, path);
    const body = await res.text();
    t.ok(body.trimEnd().endsWith(`//# sourceMappingURL=${file}.map`), `${path} is the prebuilt bundle (linked source map)`);
    t.notMatch(body, /sourceMappingURL=data:/, `${path} was not bundled in-process`);
    const map = await fetch(`${base}${path}.map`);
    t.equal(map.status, 200, `${path}.map`);
    t.ok(Array.isArray(((await map.json()) as { sources?: unknown }).sources), `${path}.map is a source map`);
  }

  const listening = logs.find((l) => l['msg'] === 'listening');
  t.ok((listening?.['engineWorkers'] as number) >= 1, `the engine runs in ${String(listening?.['engineWorkers'])} worker thread(s)`);
  const client = new StreamClient(`ws://127.0.0.1:${port}/v1/stream`);
  await client.start({ sampleRateHz: 16000, channels: 1, format: 's16le' });
  await streamSignal(client, testSong(8000, 16000, 1, 3), 's16le', [3000, 5000]);
  const done = await client.finish();
  t.match(done, { type: 'done', reason: 'end', inputSamples: 8000, outputSamples: 8000 }, 'a stream is separated by a compiled engine worker');
  t.equal(client.output('vocals')[0]!.length, 8000);

  child.kill('SIGTERM'); // npm forwards it; `exec` made node npm's direct child
  t.equal(await exited, 0, 'drains and exits 0 on SIGTERM');
  t.ok(logs.some((l) => l['msg'] === 'shutting down' && l['signal'] === 'SIGTERM'), 'the server saw SIGTERM');
});

t.test('dist/ holds the static files, and the compiled server imports only production dependencies', async (t) => {
  // Runs after the first test, which built dist/.
  const staticDir = join(root, 'dist', 'server', 'demo', 'static');
  const present = new Set(await readdir(staticDir));
  for (const { file } of [...STATIC_FILES, ...BROWSER_BUNDLES]) t.ok(present.has(file), `dist/server/demo/static/${file}`);

  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const production = new Set(Object.keys(pkg.dependencies));
  const builtins = new Set(builtinModules);
  // Loaded only when running from source (the in-process bundler for tests and `tsx server/main.ts`; the tsx loader
  // an engine worker registers before importing its .ts entry).
  const sourceOnly = new Map([
    ['server/demo/demo-plugin.js', new Set(['esbuild'])],
    ['server/engine/worker-pool.js', new Set(['tsx'])],
  ]);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.js') && !path.startsWith(staticDir)) files.push(path);
    }
  };
  await walk(join(root, 'dist'));
  t.ok(files.some((f) => f.endsWith(join('dist', 'server', 'main.js'))), 'dist/server/main.js');
  const offenders: string[] = [];
  for (const file of files) {
    const rel = file.slice(join(root, 'dist').length + 1);
    const text = await readFile(file, 'utf8');
    const specifiers = [
      ...[...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm)].map((m) => ({ spec: m[1]!, dynamic: false })),
      ...[...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => ({ spec: m[1]!, dynamic: false })),
      ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => ({ spec: m[1]!, dynamic: true })),
    ];
    for (const { spec, dynamic } of specifiers) {
      if (spec.startsWith('.')) {
        if (spec.endsWith('.ts')) offenders.push(`${rel}: relative import still ends in .ts: ${spec}`);
        continue;
      }
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (production.has(name)) continue;
      if (dynamic && sourceOnly.get(rel)?.has(name)) continue;
      offenders.push(`${rel}: ${dynamic ? 'import()' : 'import'} of ${name}, not a production dependency`);
    }
  }
  t.same(offenders, [], 'every bare import is a package.json "dependencies" entry');
});
