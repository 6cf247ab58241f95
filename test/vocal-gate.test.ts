/**
 * The vocal gate: where the model's VAD is sure nobody sings, the vocals stem is attenuated to the gate's floor and
 * what it held goes to the accompaniment (the stems still sum to the input); where someone sings it is untouched.
 * And the engine's VAD flag follows the manifest's calibrated flag settings — the same flag `npm run eval` scores.
 */
import t from 'tap';
import { EngineCore } from '../server/engine/engine-core.ts';
import type { EngineEvent, EngineStreamConfig } from '../server/engine/engine-protocol.ts';
import type { FrameModelStream } from '../server/inference/frame-model.ts';
import { parseManifest } from '../server/inference/model-manifest.ts';
import { flagSettingsOf } from '../server/pipeline/vad-smoother.ts';
import { VocalGate } from '../server/pipeline/vocal-gate.ts';
import { flagTimeline } from '../training/eval/vad-flag.ts';
import { identityManifest } from './helpers/identity-manifest.ts';
import { noise } from './helpers/signals.ts';

const hopMs = 8; // identity manifest: 128 samples at 16 kHz

t.test('gain: 1 at the start, the floor where nobody sings, back to 1 when someone does', async (t) => {
  const gate = new VocalGate({ lowProb: 0.3, highProb: 0.7, floorGain: 0.1, openMs: 0, closeMs: 40 }, hopMs);
  t.equal(gate.next(0.9), 1, 'a sure probability keeps the stem as it is');
  const closing = Array.from({ length: 60 }, () => gate.next(0));
  t.ok(closing[0]! < 1 && closing[0]! > 0.5, `closes smoothly (first hop ${closing[0]!.toFixed(3)})`);
  t.ok(Math.abs(closing.at(-1)! - 0.1) < 1e-3, `settles on the floor (${closing.at(-1)!.toFixed(4)})`);
  t.ok(Math.abs(gate.next(0.5) - (0.1 + 0.9 * 0.5)) < 1e-12, 'between the thresholds: a linear ramp (openMs 0 = at once)');
  t.equal(gate.next(Number.NaN), 1, 'a non-finite probability does not gate');
  t.throws(() => new VocalGate({ lowProb: 0.5, highProb: 0.5, floorGain: 0, openMs: 0, closeMs: 0 }, hopMs), RangeError);
  t.throws(() => parseManifest({ ...identityManifest, vocalGate: { lowProb: 0.6, highProb: 0.4, floorGain: 0, openMs: 0, closeMs: 0 } }), /highProb/);
});

/** Mask 1 (vocals = input); VAD 0 for the first `silentSteps` steps, then 1. */
function identityWithVad(silentSteps: number, probs: number[]): FrameModelStream {
  return {
    step: async (features) => {
      const vadProb = probs.length < silentSteps ? 0 : 1;
      probs.push(vadProb);
      return { mask: new Float32Array(features.length).fill(1), vadProb };
    },
    resetState: () => undefined,
    close: () => undefined,
  };
}

t.test('through the engine: gated vocals, stems that still sum to the input, and the manifest\'s flag', async (t) => {
  const manifest = parseManifest({
    ...identityManifest,
    vocalGate: { lowProb: 0.2, highProb: 0.8, floorGain: 0.25, openMs: 0, closeMs: 16 },
    vadFlag: { offThreshold: 0.5, smoothingMs: 40, onMs: 24, offMs: 64 },
  });
  const probs: number[] = [];
  const events: EngineEvent[] = [];
  const core = new EngineCore(new Map([['identity', { manifest, model: { createStream: () => identityWithVad(100, probs) } }]]), {
    emit: (e) => events.push(e),
    countFrames: () => undefined,
    countNonFinite: () => undefined,
  });
  const config: EngineStreamConfig = { model: 'identity', inputSampleRateHz: 16000, inputChannels: 1, outputSampleRateHz: 16000, vad: true, maxFrameSamples: 8192, lowWaterInputSamples: 0 };
  const input = noise(32000, 11, 0.5);
  core.handle({ type: 'open', streamId: 1, config });
  core.handle({ type: 'audio', streamId: 1, samples: [input.slice()], arrivalMs: 0 });
  core.handle({ type: 'marker', streamId: 1, marker: 'end', arrivalMs: 0 });
  for (let i = 0; i < 2000 && core.streamCount > 0; i++) await new Promise((r) => setImmediate(r));
  await core.close();

  const vocals = new Float32Array(input.length);
  const accompaniment = new Float32Array(input.length);
  const transitions: { active: boolean; sampleOffset: number }[] = [];
  for (const e of events) {
    if (e.type !== 'output') continue;
    vocals.set(e.output.vocals[0]!, e.output.sampleOffset);
    accompaniment.set(e.output.accompaniment[0]!, e.output.sampleOffset);
    transitions.push(...(e.output.vad?.transitions ?? []));
  }
  let sumError = 0;
  input.forEach((x, i) => (sumError = Math.max(sumError, Math.abs(vocals[i]! + accompaniment[i]! - x))));
  t.ok(sumError < 1e-5, `vocals + accompaniment = input everywhere (${sumError.toExponential(1)})`);
  // Hops 20–90 (VAD 0 since hop 0): the gain sits on the floor. From hop 110 (VAD 1 since hop 100): untouched.
  const ratio = (from: number, to: number) => {
    let v = 0, x = 0;
    for (let i = from * 128; i < to * 128; i++) { v += vocals[i]! ** 2; x += input[i]! ** 2; }
    return Math.sqrt(v / x);
  };
  t.ok(Math.abs(ratio(20, 90) - 0.25) < 0.01, `where nobody sings the vocals sit at the floor gain (${ratio(20, 90).toFixed(3)})`);
  t.ok(Math.abs(ratio(110, 240) - 1) < 1e-4, `where someone sings they are untouched (${ratio(110, 240).toFixed(5)})`);

  const expected = flagTimeline(Float32Array.from(probs), hopMs, flagSettingsOf(manifest)).transitions;
  t.same(transitions.map((x) => ({ active: x.active, hop: Math.round(x.sampleOffset / 128) })), expected.map((x) => ({ active: x.active, hop: x.hop })), 'the streamed flag is the manifest flag the eval scores');
  t.ok(expected.length > 0, 'the flag switched on');
});
