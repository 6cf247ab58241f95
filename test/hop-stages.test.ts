/**
 * Server-added latency split into stages (to_engine, engine, to_io, write): the stamps an output span carries from
 * the engine are taken on the clock the engine is given, each stage is non-negative even when another thread's
 * converted clock is a little off, and the stages of every hop sum to its server-added latency in /metrics.
 */
import t from 'tap';
import { EngineCore } from '../server/engine/engine-core.ts';
import type { EngineOutput, EngineStreamConfig } from '../server/engine/engine-protocol.ts';
import type { FrameModelStream } from '../server/inference/frame-model.ts';
import { Metrics } from '../server/metrics/metrics.ts';
import { HopLatency } from '../server/session/hop-latency.ts';
import { HOP_STAGES, splitHop } from '../server/session/hop-stages.ts';
import { identityManifest } from './helpers/identity-manifest.ts';
import { noise } from './helpers/signals.ts';

t.test('splitHop: stages between the stamps, clamped so they are ≥ 0 and sum to written − arrival', async (t) => {
  const out = new Float64Array(4);
  splitHop({ arrivalMs: 100, handledMs: 100.25, emittedMs: 103, receivedMs: 104.5, writtenMs: 104.75 }, out);
  t.same([...out], [0.25, 2.75, 1.5, 0.25], 'in order: each stage is the gap between its stamps');
  // the engine's clock converted by time origins can be a few µs early, or late past the write
  splitHop({ arrivalMs: 100, handledMs: 99.99, emittedMs: 106, receivedMs: 105, writtenMs: 105.5 }, out);
  t.same([...out], [0, 5.5, 0, 0], 'a handled stamp before arrival and an emitted stamp after the write are clamped');
  splitHop({ arrivalMs: 100, handledMs: 101, emittedMs: 102, receivedMs: 103, writtenMs: 99 }, out);
  t.same([...out], [0, 0, 0, 0], 'a write before arrival (server-added 0) has no stage time');
});

const config: EngineStreamConfig = { model: 'identity', inputSampleRateHz: 16000, inputChannels: 1, outputSampleRateHz: 16000, vad: false, maxFrameSamples: 8192, lowWaterInputSamples: 0 };

t.test('spans from the engine carry its clock; every hop observes 4 stages summing to its server-added latency', async (t) => {
  let clockMs = 10;
  const modelMs = 3;
  const model: FrameModelStream = {
    step: async (features) => {
      await Promise.resolve(); // the model computes after the caller's turn, as ORT does
      clockMs += modelMs;
      return { mask: new Float32Array(features.length).fill(1), vadProb: 0 };
    },
    resetState: () => undefined,
    close: () => undefined,
  };
  const outputs: EngineOutput[] = [];
  let drained = false;
  const core = new EngineCore(new Map([['identity', { manifest: identityManifest, model: { createStream: () => model } }]]), {
    emit: (e) => {
      if (e.type === 'output') outputs.push(e.output);
      if (e.type === 'drained') drained = true;
    },
    countFrames: () => undefined,
    countNonFinite: () => undefined,
    now: () => clockMs,
  });
  core.handle({ type: 'open', streamId: 1, config });
  // arrived at 7 on the I/O thread, taken in by the engine at 10
  core.handle({ type: 'audio', streamId: 1, samples: [noise(1024, 1)], arrivalMs: 7 });
  core.handle({ type: 'marker', streamId: 1, marker: 'end', arrivalMs: 7 });
  for (let i = 0; i < 200 && !drained; i++) await new Promise((r) => setImmediate(r));
  t.ok(drained, 'the stream drained');
  t.ok(outputs.length > 0, `${outputs.length} spans`);

  const metrics = new Metrics();
  const latency = new HopLatency(1000, metrics);
  let hops = 0;
  for (const out of outputs) {
    t.same(out.handledMs, out.arrivalMs.map(() => 10), 'every hop was taken in at the engine clock of its command');
    t.equal(out.receivedMs, out.emittedMs, 'in-thread, a span is received when it is emitted');
    t.ok(out.emittedMs >= 10 + modelMs, 'emitted after its model step');
    // what a worker boundary and the write would add: 1 ms to the I/O thread, 0.5 ms to write
    latency.account({ ...out, receivedMs: out.emittedMs + 1 }, out.emittedMs + 1.5);
    hops += out.arrivalMs.length;
  }

  const stage = new Map<string, { sum: number; count: number }>();
  for (const v of (await metrics.hopStageSeconds.get()).values) {
    const name = String(v.labels['stage']);
    const entry = stage.get(name) ?? { sum: 0, count: 0 };
    if (v.metricName === 'livestem_hop_stage_seconds_sum') entry.sum = v.value;
    if (v.metricName === 'livestem_hop_stage_seconds_count') entry.count = v.value;
    stage.set(name, entry);
  }
  const added = (await metrics.hopServerAddedSeconds.get()).values;
  const addedSum = added.find((v) => v.metricName === 'livestem_hop_server_added_seconds_sum')!.value;
  t.same([...stage.keys()].sort(), [...HOP_STAGES].sort(), 'one series per stage');
  for (const [name, s] of stage) t.equal(s.count, hops, `${name}: one observation per hop`);
  t.equal(Math.round(stage.get('to_engine')!.sum * 1e6), Math.round(hops * 3e3), 'to_engine: 3 ms per hop (arrival 7 → handled 10)');
  t.equal(Math.round(stage.get('to_io')!.sum * 1e6), Math.round(hops * 1e3), 'to_io: 1 ms per hop');
  t.equal(Math.round(stage.get('write')!.sum * 1e6), Math.round(hops * 0.5e3), 'write: 0.5 ms per hop');
  const stageSum = [...stage.values()].reduce((a, s) => a + s.sum, 0);
  t.ok(Math.abs(stageSum - addedSum) < 1e-9, `the stages sum to server-added latency (${stageSum} s vs ${addedSum} s)`);
  t.ok(stage.get('engine')!.sum >= hops * modelMs * 1e-3, 'engine: at least one model step per hop');
});
