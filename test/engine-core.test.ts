/**
 * One engine thread's core without ORT or threads: streams speak typed commands and events, share the thread, and a
 * stream that breaks (its model fails, or a command it cannot take) fails alone with a catalogued code while the
 * others finish with every sample. And the input buffer pool the I/O thread decodes into.
 */
import t from 'tap';
import { EngineCore } from '../server/engine/engine-core.ts';
import type { EngineEvent, EngineStreamConfig } from '../server/engine/engine-protocol.ts';
import { InputBufferPool } from '../server/engine/input-buffer-pool.ts';
import type { FrameModelStream } from '../server/inference/frame-model.ts';
import { identityManifest } from './helpers/identity-manifest.ts';
import { noise } from './helpers/signals.ts';

const manifest = identityManifest;

/** Mask 1 (vocals = input); fails its step number `failAt` when given. */
function identity(failAt?: number): FrameModelStream {
  let steps = 0;
  return {
    step: async (features) => {
      if (steps++ === failAt) throw new Error('model blew up');
      return { mask: new Float32Array(features.length).fill(1), vadProb: 0.5 };
    },
    resetState: () => undefined,
    close: () => undefined,
  };
}

const config: EngineStreamConfig = { model: 'identity', inputSampleRateHz: 16000, inputChannels: 1, outputSampleRateHz: 16000, vad: true, maxFrameSamples: 8192, lowWaterInputSamples: 0 };

t.test('streams of one core finish alone or fail alone', async (t) => {
  const failing = new Set([2]);
  const events: EngineEvent[] = [];
  let next = 0;
  const core = new EngineCore(new Map([['identity', { manifest, model: { createStream: () => identity(failing.has(++next) ? 5 : undefined) } }]]), {
    emit: (e) => events.push(e),
    countFrames: () => undefined,
    countNonFinite: () => undefined,
  });
  const input = noise(4000, 3, 0.5);
  for (const streamId of [1, 2, 3]) {
    core.handle({ type: 'open', streamId, config });
    // stream 3 sends stereo into a mono stream
    const samples = streamId === 3 ? [input.slice(), input.slice()] : [input.slice()];
    core.handle({ type: 'audio', streamId, samples, arrivalMs: 0 });
    core.handle({ type: 'marker', streamId, marker: 'end', arrivalMs: 0 });
  }
  core.handle({ type: 'open', streamId: 4, config: { ...config, model: 'nope' } });
  for (let i = 0; i < 500 && core.streamCount > 1; i++) await new Promise((r) => setImmediate(r));
  await core.close();
  const of = (id: number) => events.filter((e) => e.streamId === id);
  t.match(of(2).at(-1), { type: 'failed', code: 'LIVESTEM_ERR_INTERNAL' }, 'a model that throws fails its own stream');
  t.match(of(4), [{ type: 'failed', code: 'LIVESTEM_ERR_UNKNOWN_MODEL' }], 'an unknown model is a catalogued failure, not a throw');
  t.match(of(3).at(-1), { type: 'failed' }, 'audio with the wrong channel count fails that stream');
  const drained = of(1).at(-1);
  t.match(drained, { type: 'drained', progress: { inputSamples: 4000, outputSamples: 4000 } }, 'the healthy stream finishes');
  const vocals = new Float32Array(4000);
  for (const e of of(1)) if (e.type === 'output') vocals.set(e.output.vocals[0]!, e.output.sampleOffset);
  let worst = 0;
  vocals.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - input[i]!))));
  t.ok(worst < 1e-5, `identity model: vocals equal the input (${worst})`);
});

t.test('input buffer pool: one buffer per message, reused once handed back, bounded', async (t) => {
  const pool = new InputBufferPool(64 * 1024);
  const [l, r] = pool.take(2, 1000);
  t.equal(l!.buffer, r!.buffer, 'both channels in one buffer (one transfer)');
  t.equal(l!.buffer.byteLength, 8192, 'a power-of-two size, so similar messages fit it');
  t.equal(r!.byteOffset, 4000);
  pool.give([l!.buffer as ArrayBuffer, new ArrayBuffer(3840)]);
  t.equal(pool.size, 1, 'sizes the pool does not make are not kept');
  t.equal(pool.take(2, 900)[0]!.buffer, l!.buffer, 'the next message of similar length reuses it');
  t.equal(pool.size, 0);
  pool.give(Array.from({ length: 20 }, () => new ArrayBuffer(8192)));
  t.equal(pool.size, 8, 'at most maxBytes are kept');
});
