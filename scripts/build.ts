/**
 * Builds what `npm start` and the Docker image run, into dist/:
 *   - the server, compiled by tsc (tsconfig.build.json: server/main.ts and everything it imports, including the
 *     protocol modules under client-sdk/src/protocol) → dist/server/main.js;
 *   - the demo page's static files and the two browser bundles (demo page, client SDK) made by esbuild with linked
 *     source maps → dist/server/demo/static/, where the compiled demo plugin serves them from.
 *
 *   tsx scripts/build.ts             clean build (`npm run build`); fails on type errors
 *   tsx scripts/build.ts --if-stale  build only when an input changed since the last build (`npm start`)
 *
 * Staleness: dist/.build-stamp.json records the input files (server/, client-sdk/src/, the tsconfigs, this script,
 * package-lock.json) and their newest modification time; any added, removed or touched input rebuilds everything.
 * Builds of one checkout take turns (a lock directory in the OS temp folder), so two `npm start`s, or a test and a
 * developer, never write dist/ at the same time; the second finds dist/ fresh and starts at once.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { BROWSER_BUNDLES, BROWSER_BUNDLE_OPTIONS, STATIC_FILES, demoModulePath } from '../server/demo/demo-plugin.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const staticOut = join(dist, 'server', 'demo', 'static');
const stampPath = join(dist, '.build-stamp.json');
const INPUT_DIRS = ['server', 'client-sdk/src'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts', 'package-lock.json'];
const lockDir = join(tmpdir(), `livestem-build-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.lock`);
/** A lock whose owner is gone, or that is older than this, is left over from a killed build. */
const STALE_LOCK_MS = 5 * 60_000;

interface Stamp {
  inputs: string;
  newestMtimeMs: number;
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
}

async function inputStamp(): Promise<Stamp> {
  const files: string[] = [];
  for (const dir of INPUT_DIRS) await walk(join(root, dir), files);
  for (const file of INPUT_FILES) files.push(join(root, file));
  files.sort();
  let newestMtimeMs = 0;
  for (const file of files) newestMtimeMs = Math.max(newestMtimeMs, (await stat(file)).mtimeMs);
  const inputs = createHash('sha256').update(files.map((f) => relative(root, f)).join('\n')).digest('hex');
  return { inputs, newestMtimeMs };
}

async function upToDate(current: Stamp): Promise<boolean> {
  try {
    const saved = JSON.parse(await readFile(stampPath, 'utf8')) as Stamp;
    await stat(join(dist, 'server', 'main.js'));
    return saved.inputs === current.inputs && saved.newestMtimeMs === current.newestMtimeMs;
  } catch {
    return false;
  }
}

function compileServer(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${run.status ?? run.signal})`);
}

async function buildBrowserFiles(): Promise<void> {
  await mkdir(staticOut, { recursive: true });
  for (const { file } of STATIC_FILES) await copyFile(demoModulePath(`./static/${file}`), join(staticOut, file));
  await Promise.all(
    BROWSER_BUNDLES.map(({ entry, file }) =>
      build({ ...BROWSER_BUNDLE_OPTIONS, entryPoints: [demoModulePath(entry)], outfile: join(staticOut, file), sourcemap: 'linked' }),
    ),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockIsStale(): Promise<boolean> {
  const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => ''));
  if (owner > 0 && !alive(owner)) return true;
  const age = await stat(lockDir).then((s) => Date.now() - s.mtimeMs, () => 0);
  return age > STALE_LOCK_MS;
}

async function withBuildLock(fn: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await lockIsStale()) await rm(lockDir, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  try {
    await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && (await upToDate(await inputStamp()))) return;
  await withBuildLock(async () => {
    // Another build may have finished while this one waited for the lock.
    const current = await inputStamp();
    if (ifStale && (await upToDate(current))) return;
    await buildAll(current);
  });
}

async function buildAll(stamp: Stamp): Promise<void> {
  const started = performance.now();
  await rm(dist, { recursive: true, force: true });
  compileServer();
  const compiled = performance.now();
  await buildBrowserFiles();
  await writeFile(stampPath, JSON.stringify(stamp) + '\n');
  const done = performance.now();
  process.stderr.write(
    `livestem build: ${relative(process.cwd(), dist) || '.'}/ in ${((done - started) / 1000).toFixed(1)} s ` +
      `(server tsc ${((compiled - started) / 1000).toFixed(1)} s, browser files ${((done - compiled) / 1000).toFixed(2)} s)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`livestem build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
