import t from 'tap';
import { Batcher, type BatchRunner, type Timers } from '../server/engine/batcher.ts';
import type { FrameOutput } from '../server/inference/frame-model.ts';
import type { BatchItem } from '../server/inference/model-runtime.ts';
import { RecurrentState } from '../server/inference/recurrent-state.ts';

const io = { input: { name: 'x', shape: ['batch', 1] }, mask: { name: 'm', shape: ['batch', 1] }, vad: { name: 'v', shape: ['batch', 1] }, state: [{ input: 's', output: 's2', shape: ['batch', 1] }] } as const;

/** A runner that counts frames per stream in its state and returns mask = 2 · features; runs settle on demand. */
class FakeRunner implements BatchRunner {
  batches: number[] = [];
  pending: Array<() => void> = [];
  failNext = false;
  /** Runs containing a frame whose first feature is this value fail (a "poisoned" input). */
  poison: number | undefined;
  createState(): RecurrentState {
    return new RecurrentState(structuredClone(io) as never);
  }
  run(items: readonly BatchItem[]): Promise<FrameOutput[]> {
    this.batches.push(items.length);
    const fail = this.failNext || items.some((it) => it.features[0] === this.poison);
    this.failNext = false;
    return new Promise((resolve, reject) => {
      this.pending.push(() => {
        if (fail) return reject(new Error('boom'));
        resolve(
          items.map((it) => {
            it.state.values[0]![0]! += 1;
            return { mask: it.features.map((v) => 2 * v), vadProb: it.state.values[0]![0]! };
          }),
        );
      });
    });
  }
  settle(): void {
    const p = this.pending.shift();
    if (!p) throw new Error('no run in flight');
    p();
  }
}

class ManualTimers implements Timers {
  time = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  advance(ms: number): void {
    this.time += ms;
    for (const timer of this.timers) {
      if (timer.live && timer.at <= this.time) {
        timer.live = false;
        timer.fn();
      }
    }
  }
}

const tick = () => new Promise((r) => setImmediate(r));

t.test('everyone waiting → one batch at once; results go to the right stream with its own state', async (t) => {
  const runner = new FakeRunner();
  const timers = new ManualTimers();
  const batcher = new Batcher(runner, { maxBatch: 8, windowMs: 5 }, undefined, timers);
  const streams = [batcher.createStream(), batcher.createStream(), batcher.createStream()];
  const steps = streams.map((s, i) => s.step(Float32Array.of(i + 1)));
  t.same(runner.batches, [3], 'no waiting when every registered stream has a frame');
  runner.settle();
  const out = await Promise.all(steps);
  t.same(out.map((o) => o.mask[0]), [2, 4, 6]);
  t.same(out.map((o) => o.vadProb), [1, 1, 1]);
});

t.test('a partial batch waits at most windowMs for company', async (t) => {
  const runner = new FakeRunner();
  const timers = new ManualTimers();
  const batcher = new Batcher(runner, { maxBatch: 8, windowMs: 5 }, undefined, timers);
  const [a, b] = [batcher.createStream(), batcher.createStream(), batcher.createStream()];
  const first = a!.step(Float32Array.of(1));
  timers.advance(3);
  t.same(runner.batches, [], 'still inside the window');
  const second = b!.step(Float32Array.of(1));
  timers.advance(1);
  t.same(runner.batches, []);
  timers.advance(1);
  t.same(runner.batches, [2], 'deadline of the oldest frame reached: both go');
  runner.settle();
  await Promise.all([first, second]);
});

t.test('maxBatch splits; frames arriving during a run go in the next one; a stream keeps its order', async (t) => {
  const runner = new FakeRunner();
  const timers = new ManualTimers();
  const batcher = new Batcher(runner, { maxBatch: 2, windowMs: 5 }, undefined, timers);
  const streams = Array.from({ length: 5 }, () => batcher.createStream());
  const steps = streams.map((s) => s.step(Float32Array.of(1)));
  t.same(runner.batches, [2], 'first two');
  runner.settle();
  await tick();
  t.same(runner.batches, [2, 2], 'next two start as soon as the run ends (they already waited)');
  const again = streams[0]!.step(Float32Array.of(3));
  runner.settle();
  await tick();
  t.same(runner.batches, [2, 2, 2], 'the fifth frame and the re-submitted one');
  runner.settle();
  const out = await Promise.all([...steps, again]);
  t.equal(out[5]!.vadProb, 2, 'second step of stream 0 saw the state its first step left');
});

t.test('a failed run rejects only its own frames; a stream has at most one step outstanding', async (t) => {
  const runner = new FakeRunner();
  const timers = new ManualTimers();
  const batcher = new Batcher(runner, { maxBatch: 1, windowMs: 0 }, undefined, timers);
  const [a, b] = [batcher.createStream(), batcher.createStream()];
  runner.failNext = true;
  const failing = a!.step(Float32Array.of(1));
  const fine = b!.step(Float32Array.of(1));
  await t.rejects(b!.step(Float32Array.of(1)), /one step outstanding/);
  runner.settle();
  await t.rejects(failing, { code: 'LIVESTEM_ERR_INFERENCE_FAILED' });
  await tick();
  runner.settle();
  t.equal((await fine).mask[0], 2);
});

t.test('a frame that breaks a batched run fails alone; its batch-mates are retried and succeed', async (t) => {
  const runner = new FakeRunner();
  runner.poison = 666;
  const timers = new ManualTimers();
  const batcher = new Batcher(runner, { maxBatch: 8, windowMs: 0 }, undefined, timers);
  const streams = [batcher.createStream(), batcher.createStream(), batcher.createStream()];
  const settled = Promise.allSettled(streams.map((s, i) => s.step(Float32Array.of(i === 1 ? 666 : i + 1))));
  runner.settle(); // the batch of 3 fails
  for (let i = 0; i < 3; i++) {
    await tick();
    runner.settle(); // each frame alone
  }
  const [a, b, c] = await settled;
  t.equal(a!.status, 'fulfilled');
  t.equal(c!.status, 'fulfilled');
  t.match(b, { status: 'rejected', reason: { code: 'LIVESTEM_ERR_INFERENCE_FAILED' } });
  t.same(runner.batches, [3, 1, 1, 1]);
  t.equal((a as PromiseFulfilledResult<{ vadProb: number }>).value.vadProb, 1, 'state advanced exactly once');
});
