/**
 * `npm run bench:models -- [--rounds N] models/lstm models/unet …`: per model, in one process, alternating models
 * round by round and keeping each row's fastest round:
 *   1. the model step alone — ModelRuntime.run (gather → ORT → scatter, what the engine's batcher calls) at batch
 *      1/8/32/128: wall µs per call and process CPU µs per stream-step. CPU time counts only the time this process
 *      ran, so on a shared machine it moves far less with the load than wall time does;
 *   2. the engine benchmark (bench/engine.ts), everything but sockets;
 * then every model against the first one. Only figures from the same run compare; the load average is printed
 * before and after.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelDir } from '../server/inference/model-registry.ts';
import type { BatchItem } from '../server/inference/model-runtime.ts';
import { runEngineBench, type EngineBench, type EngineBenchRow } from './engine.ts';

const STEP_BATCHES = [1, 8, 32, 128];

interface StepRow {
  batch: number;
  /** Wall time of one ModelRuntime.run call. */
  wallUsPerCall: number;
  /** Process CPU time (user + system, all threads) per stream-step. */
  cpuUsPerItem: number;
}

/** ModelRuntime.run on `batch` streams, `calls` times; the state is carried like the server does. */
async function measureStep(modelDir: string, batch: number): Promise<StepRow> {
  const { manifest, runtime } = await loadModelDir(modelDir, { provider: 'cpu', intraOpThreads: 1 });
  try {
    const perItem = manifest.channels * manifest.bins;
    const items: BatchItem[] = Array.from({ length: batch }, (_, b) => ({
      features: Float32Array.from({ length: perItem }, (_, i) => Math.abs(Math.sin(0.37 * i + b)) * 4),
      state: runtime.createState(),
    }));
    const calls = Math.max(50, Math.round(2000 / batch));
    for (let i = 0; i < 20; i++) await runtime.run(items);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await runtime.run(items);
    const wallUs = ((performance.now() - t0) * 1000) / calls;
    const cpu = process.cpuUsage(cpu0);
    return { batch, wallUsPerCall: wallUs, cpuUsPerItem: (cpu.user + cpu.system) / (calls * batch) };
  } finally {
    await runtime.close();
  }
}

function bestStep(a: StepRow | undefined, b: StepRow): StepRow {
  if (a === undefined) return b;
  return { batch: b.batch, wallUsPerCall: Math.min(a.wallUsPerCall, b.wallUsPerCall), cpuUsPerItem: Math.min(a.cpuUsPerItem, b.cpuUsPerItem) };
}

function best(a: EngineBenchRow | undefined, b: EngineBenchRow): EngineBenchRow {
  return a === undefined || b.usPerSessionHop < a.usPerSessionHop ? b : a;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '1' } } });
  const dirs = positionals.length > 0 ? positionals : [join('models', 'lstm'), join('models', 'unet')];
  const rounds = Math.max(1, Number(values.rounds));
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(', ');
  const fastest = new Map<string, EngineBenchRow[]>();
  const steps = new Map<string, StepRow[]>();
  const names = new Map<string, string>();
  for (let r = 0; r < rounds; r++) {
    for (const dir of dirs) {
      const rows = steps.get(dir) ?? [];
      const measured: StepRow[] = [];
      for (const batch of STEP_BATCHES) measured.push(await measureStep(dir, batch));
      steps.set(dir, measured.map((row, i) => bestStep(rows[i], row)));
    }
    for (const dir of dirs) {
      const bench: EngineBench = await runEngineBench({ modelDir: dir, resultsPath: join('results', `bench-engine-${dir.replace(/\W+/g, '-')}.json`) });
      names.set(dir, bench.model);
      const rows = fastest.get(dir) ?? [];
      fastest.set(dir, bench.rows.map((row, i) => best(rows[i], row)));
    }
  }
  const [first, ...others] = dirs;
  const base = fastest.get(first!)!;
  console.log(`\n${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}; fastest of ${rounds} round(s)`);
  console.log(`1/5/15-min load average: before ${loadBefore}; after ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  const stepHeader = dirs.map((d) => `${names.get(d)} wall µs/call · CPU µs/step`).join(' | ');
  const stepRatios = others.map((d) => `${names.get(d)} / ${names.get(first!)} CPU`).join(' | ');
  console.log('\nModel step alone (ModelRuntime.run, one ORT thread):');
  console.log(`| batch | ${stepHeader} | ${stepRatios} |`);
  console.log(`|---:|${dirs.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`);
  steps.get(first!)!.forEach((row, i) => {
    const cells = dirs.map((d) => {
      const r = steps.get(d)![i]!;
      return `${r.wallUsPerCall.toFixed(1)} · ${r.cpuUsPerItem.toFixed(1)}`;
    });
    const ratio = others.map((d) => (steps.get(d)![i]!.cpuUsPerItem / row.cpuUsPerItem).toFixed(2));
    console.log(`| ${row.batch} | ${cells.join(' | ')} | ${ratio.join(' | ')} |`);
  });
  console.log('\nEngine (bench/engine.ts): µs per session-hop (of which model), wall time:');
  const header = dirs.map((d) => `${names.get(d)} µs/session-hop (model)`).join(' | ');
  const ratios = others.map((d) => `${names.get(d)} / ${names.get(first!)} model`).join(' | ');
  console.log(`| sessions | batching | ${header} | ${ratios} |`);
  console.log(`|---:|---|${dirs.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`);
  base.forEach((row, i) => {
    const cells = dirs.map((d) => {
      const r = fastest.get(d)![i]!;
      return `${r.usPerSessionHop.toFixed(1)} (${r.modelUsPerSessionHop.toFixed(1)})`;
    });
    const ratio = others.map((d) => (fastest.get(d)![i]!.modelUsPerSessionHop / row.modelUsPerSessionHop).toFixed(2));
    console.log(`| ${row.sessions} | ${row.batched ? 'yes' : 'no'} | ${cells.join(' | ')} | ${ratio.join(' | ')} |`);
  });
}

await main();
