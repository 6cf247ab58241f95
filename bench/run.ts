/**
 * `npm run bench`: prints the speed figures the docs quote and writes them to results/bench.json.
 * Single process, so every figure is for one core.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { runDspBench } from './dsp.ts';
import { runEngineBench } from './engine.ts';

async function main(): Promise<void> {
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}`;
  console.log(`livestem bench — ${machine}\n`);
  const dsp = runDspBench();
  console.log('| stage | config | µs/frame | frames/s | real-time streams/core |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of dsp) {
    console.log(`| ${r.stage} | ${r.config} | ${r.usPerFrame.toFixed(1)} | ${Math.round(r.framesPerSecond)} | ${Math.round(r.realTimeStreamsPerCore)} |`);
  }
  console.log('');
  const engine = await runEngineBench();
  await mkdir('results', { recursive: true });
  await writeFile('results/bench.json', JSON.stringify({ machine, date: new Date().toISOString(), dsp, engine }, null, 2));
  console.log('\nwrote results/bench.json');
}

await main();
