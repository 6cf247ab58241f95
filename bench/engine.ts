/**
 * Engine benchmark: the per-session, per-hop cost of everything the server does for a stream except socket I/O
 * (queue → resample/STFT → model step → mask → 2 × overlap-add → output spans + VAD in the engine, then the
 * I/O thread's frame encoding), all on one thread (the in-thread EngineCore, the code every engine worker runs), for
 * 1, 8, 32 and 128 concurrent sessions, with cross-stream batching (one ORT call per hop for all sessions) and
 * without (one ORT call per session-hop). One process, one ORT intra-op thread: the JS thread waits while ORT
 * runs, so wall time ≈ CPU time of one core and "real-time streams per core" = hop duration / cost per session-hop.
 *
 * Model: models/lstm when present (the shipped model), else a randomly initialised LSTM of the production shape
 * (hidden 128, 2 layers) exported to a temp dir — same graph and cost, untrained weights.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Batcher } from '../server/engine/batcher.ts';
import { EngineCore } from '../server/engine/engine-core.ts';
import { loadModelDir, type LoadedModel } from '../server/inference/model-registry.ts';
import type { OutputWire } from '../server/session/connection.ts';
import { OutputSelection } from '../server/session/output-selection.ts';
import { encodeWsOutput } from '../server/transport/ws/ws-output.ts';
import { exportRandomModel } from '../training/export/random-model.ts';

export interface EngineBenchRow {
  sessions: number;
  batched: boolean;
  /** Wall time per session per hop, everything but sockets. */
  usPerSessionHop: number;
  /** Of which inside ONNX Runtime. */
  modelUsPerSessionHop: number;
  /**
   * Of which in the separation pipeline's DSP (resample, STFT, magnitudes, mask + overlap-add, delay line, output
   * alignment: SeparationPipeline push/nextFeatures/completeFrame), timed around each call (adds ~0.3 µs).
   */
  dspUsPerSessionHop: number;
  meanBatchSize: number;
  realTimeStreamsPerCore: number;
}

export interface EngineBench {
  /** 1-minute load average when the run ended: above the core count, other work shared the CPU. */
  loadAverage1m: number;
  model: string;
  modelSource: string;
  hopMs: number;
  rows: EngineBenchRow[];
}

const SESSION_COUNTS = [1, 8, 32, 128];

async function measure(model: LoadedModel, sessions: number, batched: boolean, hops: number): Promise<EngineBenchRow> {
  const { manifest, runtime } = model;
  const hop = manifest.stft.hopSamples;
  let batches = 0;
  let batchItems = 0;
  const batcher = new Batcher(runtime, { maxBatch: batched ? sessions : 1, windowMs: 0 }, {
    onBatch: (size) => {
      batches++;
      batchItems += size;
    },
  });
  let sentBytes = 0;
  let sequence = 0;
  const wire: OutputWire = { format: 'f32le', sampleRateHz: manifest.sampleRateHz, channels: 2, framing: 'frames', nextSequence: () => sequence++ };
  const selection = new OutputSelection({ outputs: ['vocals', 'accompaniment'], vocalGain: 0 });
  const core = new EngineCore(new Map([[manifest.name, { manifest, model: batcher }]]), {
    emit: (event) => {
      if (event.type === 'failed') throw new Error(`${event.code}: ${event.message}`);
      if (event.type !== 'output') return;
      for (const m of encodeWsOutput(selection.select(event.output), wire)) sentBytes += 'text' in m ? m.text.length : m.binary.byteLength;
    },
    countFrames: () => undefined,
    countNonFinite: () => undefined,
  });
  const config = {
    model: manifest.name,
    inputSampleRateHz: manifest.sampleRateHz,
    inputChannels: 2 as const,
    outputSampleRateHz: manifest.sampleRateHz,
    vad: true,
    maxFrameSamples: 8192,
    lowWaterInputSamples: 0,
  };
  const processors = Array.from({ length: sessions }, (_, i) => {
    core.handle({ type: 'open', streamId: i + 1, config });
    return core.stream(i + 1)!;
  });
  // Time spent in the pipeline's DSP calls, measured per instance (the processors' own code is untouched).
  let dspMs = 0;
  for (const p of processors) {
    const pipeline = p.pipeline;
    const push = pipeline.push.bind(pipeline);
    const nextFeatures = pipeline.nextFeatures.bind(pipeline);
    const completeFrame = pipeline.completeFrame.bind(pipeline);
    pipeline.push = (input) => {
      const t0 = performance.now();
      push(input);
      dspMs += performance.now() - t0;
    };
    pipeline.nextFeatures = () => {
      const t0 = performance.now();
      const out = nextFeatures();
      dspMs += performance.now() - t0;
      return out;
    };
    pipeline.completeFrame = (mask, vadProb) => {
      const t0 = performance.now();
      const out = completeFrame(mask, vadProb);
      dspMs += performance.now() - t0;
      return out;
    };
  }
  // Deterministic noise-like input, one hop per session per round (the real-time arrival pattern).
  const chunk = [0, 1].map((c) => Float32Array.from({ length: hop }, (_, i) => 0.3 * Math.sin(0.01 * i * (c + 1)) + 0.1 * Math.sin(i * 1.7)));
  const round = async (): Promise<void> => {
    for (const p of processors) p.pushAudio(chunk.map((ch) => ch.slice()), performance.now());
    await Promise.all(processors.map((p) => p.idle()));
  };
  for (let i = 0; i < 8; i++) await round(); // warm-up: JIT, ORT arenas, past the initial latency
  const busyBefore = batcher.busyTimeMs;
  const dspBefore = dspMs;
  batches = 0;
  batchItems = 0;
  const t0 = performance.now();
  for (let i = 0; i < hops; i++) await round();
  const elapsedMs = performance.now() - t0;
  const modelMs = batcher.busyTimeMs - busyBefore;
  const pipelineMs = dspMs - dspBefore;
  await core.close();
  if (sentBytes === 0) throw new Error('benchmark produced no output');
  const sessionHops = sessions * hops;
  const usPerSessionHop = (elapsedMs * 1000) / sessionHops;
  const hopUs = (hop / manifest.sampleRateHz) * 1e6;
  return {
    sessions,
    batched,
    usPerSessionHop,
    modelUsPerSessionHop: (modelMs * 1000) / sessionHops,
    dspUsPerSessionHop: (pipelineMs * 1000) / sessionHops,
    meanBatchSize: batchItems / Math.max(1, batches),
    realTimeStreamsPerCore: hopUs / usPerSessionHop,
  };
}

export async function runEngineBench(options: { modelDir?: string; resultsPath?: string } = {}): Promise<EngineBench> {
  let modelDir = options.modelDir ?? join('models', 'lstm');
  let modelSource = `${modelDir} (shipped model)`;
  let tempDir: string | undefined;
  if (!existsSync(join(modelDir, 'manifest.json'))) {
    tempDir = await mkdtemp(join(tmpdir(), 'livestem-bench-'));
    modelDir = join(tempDir, 'lstm');
    await exportRandomModel({ arch: 'lstm', name: 'lstm', hiddenSize: 128, layers: 2, seed: 1 }, modelDir);
    modelSource = 'random-init LSTM, hidden 128 × 2 layers (models/lstm not present)';
  }
  const model = await loadModelDir(modelDir, { provider: 'cpu', intraOpThreads: 1 });
  try {
    const hopMs = (model.manifest.stft.hopSamples / model.manifest.sampleRateHz) * 1000;
    const rows: EngineBenchRow[] = [];
    for (const sessions of SESSION_COUNTS) {
      const hops = Math.max(20, Math.round(6000 / sessions));
      for (const batched of [false, true]) rows.push(await measure(model, sessions, batched, hops));
    }
    const loadAverage1m = loadavg()[0] ?? 0;
    const result: EngineBench = { loadAverage1m, model: model.manifest.name, modelSource, hopMs, rows };
    console.log(`engine: ${modelSource}, hop ${hopMs.toFixed(2)} ms, one ORT thread, everything but sockets`);
    console.log(`(1-min load average ${loadAverage1m.toFixed(1)} at the end of the run: above the core count means shared CPU)`);
    console.log('| sessions | batching | µs / session-hop | of which model | of which pipeline DSP | mean batch | real-time streams / core |');
    console.log('|---:|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${r.sessions} | ${r.batched ? 'yes' : 'no'} | ${r.usPerSessionHop.toFixed(1)} | ${r.modelUsPerSessionHop.toFixed(1)} | ${r.dspUsPerSessionHop.toFixed(1)} | ${r.meanBatchSize.toFixed(1)} | ${Math.floor(r.realTimeStreamsPerCore)} |`,
      );
    }
    const path = options.resultsPath ?? join('results', 'bench-engine.json');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2));
    console.log(`wrote ${path}`);
    return result;
  } finally {
    await model.runtime.close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runEngineBench();
