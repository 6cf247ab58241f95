/**
 * `npm run perf:report` → docs/performance.md (+ results/performance.json). For each model in models/: algorithmic
 * latency from its manifest, engine cost per session-hop (bench/engine.ts), offline RTF on a 60 s song (measured
 * here), and the capacity figure from a ramp report made by the load tester (`--capacity NAME=report.json`, default
 * results/capacity/NAME/report.json when it exists: the ramp needs a running server, so it is its own command).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runEngineBench } from '../bench/engine.ts';
import { readManifest } from '../server/inference/model-registry.ts';
import { readCapacity } from './perf/capacity-from-report.ts';
import { measureOfflineRtf } from './perf/offline-rtf.ts';
import { renderPerformanceMarkdown } from './perf/perf-markdown.ts';
import type { ModelPerf, PerfData } from './perf/perf-model.ts';
import { loadSong } from './song.ts';

async function modelDirs(modelsDir: string): Promise<string[]> {
  const entries = (await readdir(modelsDir)).sort();
  return entries.map((e) => join(modelsDir, e)).filter((d) => existsSync(join(d, 'manifest.json')));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'models-dir': { type: 'string', default: 'models' },
      capacity: { type: 'string', multiple: true, default: [] },
      input: { type: 'string' },
      'offline-seconds': { type: 'string', default: '60' },
      out: { type: 'string', default: 'docs/performance.md' },
      json: { type: 'string', default: 'results/performance.json' },
    },
    strict: true,
  });
  const modelsDir = values['models-dir'];
  const capacityPaths = new Map<string, string>();
  for (const spec of values.capacity) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`--capacity expects NAME=path/report.json, got "${spec}"`);
    capacityPaths.set(spec.slice(0, eq), spec.slice(eq + 1));
  }
  const offlineSeconds = Number(values['offline-seconds']);
  const song = await loadSong(values.input);
  const dirs = await modelDirs(modelsDir);
  if (dirs.length === 0) throw new Error(`no models in ${modelsDir}/ (each needs manifest.json + model.onnx)`);
  const commands = [`npm run perf:report -- ${process.argv.slice(2).join(' ')}`.trim()];
  const models: ModelPerf[] = [];
  for (const dir of dirs) {
    const manifest = await readManifest(dir);
    console.error(`perf: ${manifest.name}…`);
    const perf: ModelPerf = {
      name: manifest.name,
      arch: manifest.arch,
      description: manifest.description,
      parameters: manifest.parameters,
      sampleRateHz: manifest.sampleRateHz,
      nFft: manifest.stft.nFft,
      hopSamples: manifest.stft.hopSamples,
      algorithmicLatencyMs: (manifest.latencySamples / manifest.sampleRateHz) * 1000,
      engine: null,
      capacity: null,
      offline: null,
    };
    try {
      const bench = await runEngineBench({ modelDir: dir, resultsPath: join('results', `bench-engine-${manifest.name}.json`) });
      const most = Math.max(...bench.rows.map((r) => r.sessions));
      const unbatched = bench.rows.find((r) => r.sessions === most && !r.batched);
      const batched = bench.rows.find((r) => r.sessions === most && r.batched);
      if (!unbatched || !batched) throw new Error('engine bench returned no rows');
      perf.engine = {
        sessions: most,
        unbatchedUsPerHop: unbatched.usPerSessionHop,
        batchedUsPerHop: batched.usPerSessionHop,
        batchSize: batched.meanBatchSize,
        scope: 'bench/engine.ts: queue → resample/STFT → model step → mask → overlap-add → output framing and encoding → VAD, everything but sockets, one ORT thread',
        rows: bench.rows,
        loadAverage1m: bench.loadAverage1m,
      };
    } catch (err) {
      perf.engineNote = `engine bench failed: ${(err as Error).message}`;
    }
    try {
      perf.offline = await measureOfflineRtf(dir, song, offlineSeconds);
    } catch (err) {
      perf.offlineNote = `offline RTF failed: ${(err as Error).message}`;
    }
    const capPath = capacityPaths.get(manifest.name) ?? join('results', 'capacity', manifest.name, 'report.json');
    if (existsSync(capPath)) {
      try {
        perf.capacity = await readCapacity(capPath, manifest.name);
        commands.push(perf.capacity.command);
      } catch (err) {
        perf.capacityNote = `capacity not taken from ${capPath}: ${(err as Error).message}`;
      }
    } else {
      perf.capacityNote = `no capacity measured (no ramp report at ${capPath}; run the load tester with --ramp against a server serving ${manifest.name})`;
    }
    models.push(perf);
  }
  const data: PerfData = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadAverage1m: loadavg()[0] ?? Number.NaN },
    gpu: {
      available: false,
      note: 'empty — no GPU on the machine that produced this report. On a GPU machine the engine bench runs with the ONNX Runtime CUDA provider (server `--provider cuda`) and fills this column.',
    },
    song: `${song.name} (${song.sampleRateHz} Hz, ${song.channels.length} ch)`,
    models,
    commands,
  };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, renderPerformanceMarkdown(data));
  await mkdir(dirname(values.json), { recursive: true });
  await writeFile(values.json, JSON.stringify(data, null, 2));
  console.log(`wrote ${values.out} and ${values.json}`);
}

main().catch((err: unknown) => {
  console.error(`perf:report: ${(err as Error).message}`);
  process.exit(1);
});
