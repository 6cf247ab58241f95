/**
 * Sends the output tracks' 20 ms Opus packets on a 20 ms slot grid whose phase follows when output frames become
 * complete, so the pacer adds as little delay as the output's own rhythm allows (at most one frame in steady state):
 *
 * - A frame is *complete* when every track holds it (the tracks are parts of one signal, so a slot always carries the
 *   same frame index on every track and they stay aligned frame for frame).
 * - At its slot the oldest complete frame leaves. When none is complete the slot is *late*: the grid waits, the frame
 *   leaves the moment it completes and the grid restarts from there (a few ms of jitter for the browser instead of a
 *   20 ms silence and a standing frame of delay). Only when a whole frame period passes without one is a silent frame
 *   sent on every track (an underrun), which keeps the RTP timelines continuous through an input stall.
 * - Every `alignWindowSlots` slots the grid is pulled earlier by the smallest wait seen in the last few windows minus
 *   `marginMs`: the slot then sits just after the latest-completing frame of the recent past, not wherever the first
 *   output happened to land.
 * - A queue holding more than one complete frame at `trimAfterSlots` consecutive slots is trimmed to one frame at
 *   once, counted: a hiccup (output delivered in a burst after a stall) must not leave a standing delay. Output that
 *   merely arrives in small bursts (two or three frames per event-loop turn on a busy machine) drains to one frame
 *   within the window and is never trimmed.
 *
 * The clock is injected (`PacerClock`) so the schedule is testable without timers.
 */
import { RtpHeader, RtpPacket, type MediaStreamTrack } from 'werift';
import { FRAME_SAMPLES, FrameQueue, OpusFrameEncoder, type FrameEncoder } from './opus-egress.ts';

export const FRAME_MS = 20;
/**
 * Windows the phase alignment remembers (3 s at the default window): longer holds the slot later after every late
 * frame, shorter lets more frames be late (one bench run each on a busy machine: 1 s → 1.6 % late, 5.3 ms mean wait;
 * 5 s → 0.7 %, 13 ms).
 */
const ALIGN_MEMORY_WINDOWS = 3;

export interface PacerClock {
  nowMs(): number;
  /** Calls `fn` after `delayMs`; returns a cancel function. */
  schedule(fn: () => void, delayMs: number): () => void;
}

export const REAL_CLOCK: PacerClock = {
  nowMs: () => performance.now(),
  schedule: (fn, delayMs) => {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  },
};

export interface PacerOptions {
  /** Per-track bound; beyond it the oldest frames are dropped (counted). Default 15 frames (300 ms). */
  maxQueuedFrames?: number;
  /** Consecutive slots with more than one complete frame before the excess is dropped. Default 4 (80 ms). */
  trimAfterSlots?: number;
  /** Slots between phase corrections. Default 50 (1 s). */
  alignWindowSlots?: number;
  /** Headroom left between the latest-completing frame and its slot after a phase correction. Default 2 ms. */
  marginMs?: number;
  bitrateBps?: number;
  clock?: PacerClock;
  /** Default: Opus. Tests pass one whose payload names the frame, to follow every frame through the pacer. */
  createEncoder?: () => FrameEncoder;
}

export interface PacerStats {
  sentPackets: number;
  /** Silent frames sent because no frame completed within a whole frame period after its slot, all tracks. */
  underrunFrames: number;
  /** Frames dropped to bound the delay (queue bound and trims), all tracks. */
  droppedFrames: number;
  /** Of `droppedFrames`: dropped by a trim of a standing backlog, all tracks. */
  trimmedFrames: number;
  /** Slots whose frame was not complete at slot time (it left late, or a silent frame went instead). */
  lateSlots: number;
  /** Slots that carried a frame or silence (per slot, not per track). */
  slots: number;
  /** Output waiting for its slot now (longest track), in ms. */
  queuedMs: number;
  /** Time a frame waited between becoming complete and leaving: the delay the pacer added. */
  waitMs: { mean: number; max: number };
}

interface Lane {
  track: MediaStreamTrack;
  queue: FrameQueue;
  encoder: FrameEncoder;
  sequence: number;
  timestamp: number;
}

export class RtpPacer<K extends string> {
  readonly #lanes = new Map<K, Lane>();
  readonly #clock: PacerClock;
  readonly #trimAfterSlots: number;
  readonly #alignWindowSlots: number;
  readonly #marginMs: number;
  readonly #silence = [new Float32Array(FRAME_SAMPLES), new Float32Array(FRAME_SAMPLES)];
  /** When each complete frame (index = position in every lane's queue) became complete. */
  #completedAtMs: number[] = [];
  /** Next slot; undefined before the first frame and while waiting for a late one (it leaves on completion). */
  #nextSlotMs: number | undefined;
  /** While waiting: when a silent frame goes if nothing completes. */
  #silenceAtMs = 0;
  #cancelTimer: (() => void) | undefined;
  #stopped = false;
  #slotsOverOne = 0;
  #windowSlots = 0;
  #windowMinWaitMs = Infinity;
  /** Smallest wait of each recent window, relative to the current grid. */
  #windowMinsMs: number[] = [];
  #stats = { sentPackets: 0, underrunFrames: 0, trimmedFrames: 0, lateSlots: 0, slots: 0, waitSumMs: 0, waitMaxMs: 0, framesSent: 0 };

  constructor(tracks: ReadonlyMap<K, MediaStreamTrack>, opts: PacerOptions = {}) {
    this.#clock = opts.clock ?? REAL_CLOCK;
    this.#trimAfterSlots = opts.trimAfterSlots ?? 4;
    this.#alignWindowSlots = opts.alignWindowSlots ?? 50;
    this.#marginMs = opts.marginMs ?? 2;
    // One timestamp origin for every track: a receiver can compare their playout positions (getSynchronizationSources).
    const timestamp = Math.floor(Math.random() * 0x100000000);
    for (const [kind, track] of tracks) {
      this.#lanes.set(kind, {
        track,
        queue: new FrameQueue(opts.maxQueuedFrames ?? 15),
        encoder: opts.createEncoder?.() ?? new OpusFrameEncoder(opts.bitrateBps),
        sequence: Math.floor(Math.random() * 0x10000),
        timestamp,
      });
    }
  }

  push(kind: K, block: readonly Float32Array[]): void {
    if (this.#stopped) return;
    const lane = this.#lanes.get(kind);
    if (lane === undefined) return;
    lane.queue.push(block);
    this.#noteCompleted();
    // No grid yet (the first frame) or waiting for a late one: it leaves now and the grid (re)starts from here.
    if (this.#completedAtMs.length === 0 || this.#nextSlotMs !== undefined) return;
    this.#sendSlot();
    this.#nextSlotMs = this.#clock.nowMs() + FRAME_MS;
    this.#arm();
  }

  get stats(): PacerStats {
    let droppedFrames = 0;
    let queued = 0;
    for (const lane of this.#lanes.values()) {
      droppedFrames += lane.queue.droppedFrames;
      queued = Math.max(queued, lane.queue.queuedFrames);
    }
    const s = this.#stats;
    return {
      sentPackets: s.sentPackets,
      underrunFrames: s.underrunFrames,
      droppedFrames: droppedFrames + s.trimmedFrames,
      trimmedFrames: s.trimmedFrames,
      lateSlots: s.lateSlots,
      slots: s.slots,
      queuedMs: queued * FRAME_MS,
      waitMs: { mean: s.framesSent > 0 ? s.waitSumMs / s.framesSent : 0, max: s.waitMaxMs },
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    for (const lane of this.#lanes.values()) lane.encoder.delete();
  }

  /** Stamps newly complete frames; keeps the stamps in step with queues that dropped their oldest frames. */
  #noteCompleted(): void {
    const complete = this.#minQueued();
    if (complete < this.#completedAtMs.length) this.#completedAtMs.splice(0, this.#completedAtMs.length - complete);
    const now = this.#clock.nowMs();
    while (this.#completedAtMs.length < complete) this.#completedAtMs.push(now);
  }

  #minQueued(): number {
    let min = Infinity;
    for (const lane of this.#lanes.values()) min = Math.min(min, lane.queue.queuedFrames);
    return min === Infinity ? 0 : min;
  }

  #arm(): void {
    this.#cancelTimer?.();
    const at = this.#nextSlotMs ?? this.#silenceAtMs;
    this.#cancelTimer = this.#clock.schedule(() => this.#onTimer(), Math.max(0, at - this.#clock.nowMs()));
  }

  #onTimer(): void {
    this.#cancelTimer = undefined;
    if (this.#stopped) return;
    const now = this.#clock.nowMs();
    if (this.#nextSlotMs === undefined) {
      // A whole frame period without output: silence keeps the RTP timeline going through an input stall.
      this.#sendSilence();
      this.#silenceAtMs += FRAME_MS;
      if (this.#silenceAtMs <= now) this.#silenceAtMs = now + FRAME_MS;
      this.#arm();
      return;
    }
    // The event loop stalled past a whole slot: restart the grid now rather than send the overdue slots in a burst.
    if (now - this.#nextSlotMs >= FRAME_MS) this.#nextSlotMs = now;
    if (this.#completedAtMs.length === 0) {
      this.#stats.lateSlots++;
      this.#silenceAtMs = this.#nextSlotMs + FRAME_MS;
      this.#nextSlotMs = undefined;
      this.#arm();
      return;
    }
    this.#trimStandingBacklog();
    this.#sendSlot();
    this.#nextSlotMs += FRAME_MS;
    this.#alignPhase();
    this.#arm();
  }

  #trimStandingBacklog(): void {
    this.#slotsOverOne = this.#completedAtMs.length > 1 ? this.#slotsOverOne + 1 : 0;
    if (this.#slotsOverOne < this.#trimAfterSlots) return;
    const excess = this.#completedAtMs.length - 1;
    for (const lane of this.#lanes.values()) for (let i = 0; i < excess; i++) lane.queue.shift();
    this.#completedAtMs.splice(0, excess);
    this.#stats.trimmedFrames += excess * this.#lanes.size;
    this.#slotsOverOne = 0;
  }

  /**
   * Pulls the grid earlier by the slack every frame of the last `ALIGN_MEMORY_WINDOWS` windows had (less the margin):
   * remembering a few seconds, not one, keeps a window that happened to be calm from pulling the slot in front of the
   * next ordinary late frame. A late frame (wait 0) blocks pulling for that long. The first window is short (10 slots):
   * the grid starts at the first frame's phase, which is arbitrary, and should not stay there for a second.
   */
  #alignPhase(): void {
    const window = this.#windowMinsMs.length > 0 ? this.#alignWindowSlots : Math.min(10, this.#alignWindowSlots);
    if (++this.#windowSlots < window) return;
    this.#windowMinsMs.push(this.#windowMinWaitMs);
    if (this.#windowMinsMs.length > ALIGN_MEMORY_WINDOWS) this.#windowMinsMs.shift();
    const slackMs = Math.min(...this.#windowMinsMs) - this.#marginMs;
    if (slackMs > 0 && this.#nextSlotMs !== undefined) {
      this.#nextSlotMs -= slackMs;
      // The remembered waits were measured against the old grid.
      this.#windowMinsMs = this.#windowMinsMs.map((ms) => ms - slackMs);
    }
    this.#windowSlots = 0;
    this.#windowMinWaitMs = Infinity;
  }

  #sendSlot(): void {
    const completedAt = this.#completedAtMs.shift();
    if (completedAt === undefined) return;
    const waitMs = this.#clock.nowMs() - completedAt;
    const s = this.#stats;
    s.waitSumMs += waitMs;
    s.waitMaxMs = Math.max(s.waitMaxMs, waitMs);
    s.framesSent++;
    this.#windowMinWaitMs = Math.min(this.#windowMinWaitMs, waitMs);
    for (const lane of this.#lanes.values()) this.#write(lane, lane.queue.shift() ?? this.#silence);
    s.slots++;
  }

  #sendSilence(): void {
    for (const lane of this.#lanes.values()) this.#write(lane, this.#silence);
    this.#stats.underrunFrames += this.#lanes.size;
    this.#stats.slots++;
  }

  #write(lane: Lane, frame: readonly Float32Array[]): void {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: lane.sequence, timestamp: lane.timestamp, marker: this.#stats.slots === 0 });
    lane.track.writeRtp(new RtpPacket(header, lane.encoder.encode(frame)));
    lane.sequence = (lane.sequence + 1) & 0xffff;
    lane.timestamp = (lane.timestamp + FRAME_SAMPLES) >>> 0;
    this.#stats.sentPackets++;
  }
}
