/**
 * The WebRTC output pacer on a manual clock, fed the way a session feeds it: one input packet every 20 ms (arriving
 * with jitter), each releasing the output of the model hops it completed (256 samples at 44.1 kHz ≈ 278.6 at 48 kHz,
 * so 3 or 4 hops per packet). A test encoder writes each frame's first sample into the payload and every output
 * sample is its own index + 1, so every packet names the frame it carries (0 = silence).
 */
import t from 'tap';
import { MediaStreamTrack } from 'werift';
import { FRAME_SAMPLES, type FrameEncoder } from '../server/transport/webrtc/opus-egress.ts';
import { FRAME_MS, RtpPacer, type PacerClock } from '../server/transport/webrtc/rtp-pacer.ts';

interface Timer {
  atMs: number;
  fn: () => void;
  live: boolean;
}

class ManualClock implements PacerClock {
  #now = 0;
  #timers: Timer[] = [];
  nowMs(): number {
    return this.#now;
  }
  schedule(fn: () => void, delayMs: number): () => void {
    const timer: Timer = { atMs: this.#now + delayMs, fn, live: true };
    this.#timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
  /** Runs every timer due up to `toMs`, in time order, then sets the clock to `toMs`. */
  advanceTo(toMs: number): void {
    for (;;) {
      this.#timers = this.#timers.filter((x) => x.live);
      const next = this.#timers.reduce<Timer | undefined>((a, x) => (a === undefined || x.atMs < a.atMs ? x : a), undefined);
      if (next === undefined || next.atMs > toMs) break;
      next.live = false;
      this.#now = Math.max(this.#now, next.atMs);
      next.fn();
    }
    this.#now = toMs;
  }
}

const taggingEncoder = (): FrameEncoder => ({
  encode: (frame) => {
    const payload = Buffer.alloc(8);
    payload.writeDoubleLE(frame[0]![0]!);
    return payload;
  },
  delete: () => {},
});

interface Sent {
  atMs: number;
  /** Frame index carried, or -1 for silence. */
  frame: number;
  seq: number;
  ts: number;
  marker: boolean;
  /** Output still queued once this slot left (recorded on the last track, when every track has sent). */
  queuedAfterMs: number;
}

function harness(): { clock: ManualClock; pacer: RtpPacer<'vocals' | 'accompaniment'>; sent: Map<string, Sent[]> } {
  const clock = new ManualClock();
  const tracks = new Map([
    ['vocals', new MediaStreamTrack({ kind: 'audio' })],
    ['accompaniment', new MediaStreamTrack({ kind: 'audio' })],
  ] as const);
  const sent = new Map<string, Sent[]>([
    ['vocals', []],
    ['accompaniment', []],
  ]);
  const pacer = new RtpPacer(tracks, { clock, createEncoder: taggingEncoder });
  for (const [kind, track] of tracks) {
    track.onReceiveRtp.subscribe((rtp) => {
      const tag = rtp.payload.readDoubleLE(0);
      const frame = tag === 0 ? -1 : (tag - 1) / FRAME_SAMPLES;
      sent.get(kind)!.push({ atMs: clock.nowMs(), frame, seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp, marker: rtp.header.marker, queuedAfterMs: pacer.stats.queuedMs });
    });
  }
  return { clock, pacer, sent };
}

/** A deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Feeds `packets` input packets: packet i arrives at 20·i ms + up to `jitterMs` (never before the previous one) and
 * its output is pushed `processingMs` later; `stall` holds packets back and releases them all at once. Returns when
 * each frame became complete.
 */
function feed(h: ReturnType<typeof harness>, opts: { packets: number; jitterMs: number; seed: number; stall?: { from: number; to: number } }): number[] {
  const rand = random(opts.seed);
  const completedAtMs: number[] = [];
  let hops = 0;
  let outSamples = 0;
  let arrivalMs = 0;
  for (let i = 0; i < opts.packets; i++) {
    arrivalMs = Math.max(arrivalMs, i * FRAME_MS + rand() * opts.jitterMs);
    if (opts.stall !== undefined && i >= opts.stall.from && i < opts.stall.to) continue;
    const pushAtMs = arrivalMs + 0.5 + rand() * 1.5;
    h.clock.advanceTo(pushAtMs);
    // Hops completed by the input so far (882 samples at 44.1 kHz per 20 ms packet), as 48 kHz output samples.
    const inputSamples = (i + 1) * 882;
    const newHops = Math.floor(inputSamples / 256) - hops;
    hops += newHops;
    const target = Math.round((hops * 256 * 48000) / 44100);
    const block = Float32Array.from({ length: target - outSamples }, (_, j) => outSamples + j + 1);
    outSamples = target;
    if (block.length === 0) continue;
    h.pacer.push('vocals', [block]);
    h.pacer.push('accompaniment', [block]);
    while ((completedAtMs.length + 1) * FRAME_SAMPLES <= outSamples) completedAtMs.push(pushAtMs);
  }
  h.clock.advanceTo(arrivalMs + 200);
  return completedAtMs;
}

t.test('steady state: each frame waits at most one frame, slots stay ahead of the output, nothing reordered', async (t) => {
  const h = harness();
  const completedAtMs = feed(h, { packets: 1500, jitterMs: 5, seed: 7 });
  h.pacer.stop();
  const vocals = h.sent.get('vocals')!;
  const acc = h.sent.get('accompaniment')!;
  t.equal(vocals.length, acc.length, 'one packet per track per slot');
  t.ok(vocals.every((p, i) => p.frame === acc[i]!.frame), 'both tracks carry the same frame in every slot');
  t.equal(vocals[0]?.marker, true, 'the first packet is marked');
  t.equal(vocals[0]?.ts, acc[0]?.ts, 'the tracks share one RTP timestamp origin');
  t.ok(vocals.every((p, i) => i === 0 || (((p.seq - vocals[i - 1]!.seq) & 0xffff) === 1 && ((p.ts - vocals[i - 1]!.ts) >>> 0) === FRAME_SAMPLES)), 'sequence +1 and timestamp +960 per packet');
  const frames = vocals.filter((p) => p.frame >= 0).map((p) => p.frame);
  t.same(frames, frames.map((_, i) => i), 'every frame sent once, in order');
  t.equal(frames.length, completedAtMs.length, 'every completed frame was sent');
  // After 2 s (the grid has aligned itself to when frames complete):
  const steady = acc.filter((p) => p.frame >= 100);
  const standingMs = Math.max(...steady.map((p) => p.queuedAfterMs));
  t.ok(standingMs <= FRAME_MS, `at most one frame stays queued once a slot has left (max ${standingMs} ms)`);
  // A frame's wait is bounded by the spread of completion times the output's rhythm imposes (a 20 ms input packet
  // releases 3 or 4 hops, so now and then two frames complete at once) plus the input jitter and the pacer's margin.
  const waits = steady.map((p) => p.atMs - completedAtMs[p.frame]!);
  const maxWaitMs = Math.max(...waits);
  const meanWaitMs = waits.reduce((a, b) => a + b, 0) / waits.length;
  t.ok(maxWaitMs <= FRAME_MS + 5 + 2, `a frame waits at most one frame + input jitter + margin (max ${maxWaitMs.toFixed(1)} ms)`);
  t.ok(meanWaitMs < 10, `mean wait ${meanWaitMs.toFixed(1)} ms: the slot follows the output, not the first packet's phase`);
  const stats = h.pacer.stats;
  t.ok(stats.lateSlots <= stats.slots / 1000 + 2, `late slots ${stats.lateSlots} of ${stats.slots} (< 0.1 % after the start)`);
  const lastFrameAt = vocals.length - 1 - [...vocals].reverse().findIndex((p) => p.frame >= 0);
  t.equal(vocals.slice(0, lastFrameAt).filter((p) => p.frame < 0).length, 0, 'no silence while output keeps coming');
  t.equal(stats.trimmedFrames, 0, 'nothing trimmed in steady state');
  t.ok(stats.waitMs.mean <= meanWaitMs + 5, `reported mean wait ${stats.waitMs.mean.toFixed(1)} ms`);
});

t.test('a stall: silence keeps the RTP timeline going, the burst after it is trimmed to one frame at once and counted', async (t) => {
  const h = harness();
  // Input packets 100..109 held back 200 ms, then delivered together.
  const completedAtMs = feed(h, { packets: 400, jitterMs: 3, seed: 11, stall: { from: 100, to: 110 } });
  h.pacer.stop();
  const vocals = h.sent.get('vocals')!;
  const stats = h.pacer.stats;
  t.ok(stats.underrunFrames > 0 && stats.underrunFrames % 2 === 0, `silent frames during the stall, on both tracks together (${stats.underrunFrames})`);
  t.ok(vocals.every((p, i) => i === 0 || (((p.seq - vocals[i - 1]!.seq) & 0xffff) === 1 && ((p.ts - vocals[i - 1]!.ts) >>> 0) === FRAME_SAMPLES)), 'RTP numbering contiguous through the stall');
  const frames = vocals.filter((p) => p.frame >= 0).map((p) => p.frame);
  t.ok(frames.every((f, i) => i === 0 || f > frames[i - 1]!), 'frames never reordered or repeated');
  const skipped = completedAtMs.length - frames.length;
  t.ok(skipped > 0, `the backlog was cut (${skipped} frames)`);
  t.equal(stats.trimmedFrames, 2 * skipped, 'every frame not sent is counted as trimmed, per track');
  t.equal(stats.droppedFrames, stats.trimmedFrames, 'dropped = trimmed (the queue bound was never hit)');
  // Within five slots (100 ms) of the burst the pacer is back to at most one frame queued.
  const burstAtMs = completedAtMs[frames.find((f) => completedAtMs[f]! > 100 * FRAME_MS + 150)!]!;
  const after = h.sent.get('accompaniment')!.filter((p) => p.frame >= 0 && p.atMs > burstAtMs + 5 * FRAME_MS);
  t.ok(Math.max(...after.map((p) => p.queuedAfterMs)) <= FRAME_MS, 'five slots after the burst at most one frame stays queued');
  const maxWaitMs = Math.max(...after.map((p) => p.atMs - completedAtMs[p.frame]!));
  t.ok(maxWaitMs <= FRAME_MS + 3 + 2, `and no frame waits more than one frame + input jitter + margin (max ${maxWaitMs.toFixed(1)} ms)`);
});

t.test('a frame leaves only once every track holds it', async (t) => {
  const h = harness();
  const block = Float32Array.from({ length: 3 * FRAME_SAMPLES }, (_, i) => i + 1);
  h.pacer.push('vocals', [block]);
  t.equal(h.sent.get('vocals')!.length, 0, 'vocals alone: nothing sent');
  t.equal(h.pacer.stats.queuedMs, 60, 'vocals hold their three frames');
  h.pacer.push('accompaniment', [block]);
  h.clock.advanceTo(100);
  h.pacer.stop();
  const vocals = h.sent.get('vocals')!.map((p) => p.frame);
  const acc = h.sent.get('accompaniment')!.map((p) => p.frame);
  t.same(vocals.slice(0, 3), [0, 1, 2], 'vocals: frames 0, 1, 2');
  t.same(acc.slice(0, 3), [0, 1, 2], 'accompaniment: the same frames in the same slots');
});

t.test('output in small bursts (three frames every 60 ms) is paced out whole, never trimmed', async (t) => {
  const h = harness();
  let next = 1;
  for (let burst = 0; burst < 100; burst++) {
    h.clock.advanceTo(burst * 3 * FRAME_MS + 1);
    const block = Float32Array.from({ length: 3 * FRAME_SAMPLES }, () => next++);
    h.pacer.push('vocals', [block]);
    h.pacer.push('accompaniment', [block]);
  }
  h.clock.advanceTo(100 * 3 * FRAME_MS + 100);
  h.pacer.stop();
  const frames = h.sent.get('vocals')!.filter((p) => p.frame >= 0).map((p) => p.frame);
  t.same(frames, frames.map((_, i) => i), 'every frame sent, in order');
  t.equal(frames.length, 300);
  t.equal(h.pacer.stats.trimmedFrames, 0, 'nothing trimmed');
  t.ok(h.pacer.stats.waitMs.max <= 2 * FRAME_MS + 1, `the last frame of a burst waits two slots at most (${h.pacer.stats.waitMs.max} ms)`);
});
