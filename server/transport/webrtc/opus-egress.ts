/**
 * Outgoing audio: planar 48 kHz stereo blocks of any size → 20 ms Opus packets. `FrameQueue` (pure) cuts blocks into
 * 960-sample frames and bounds how much may wait: beyond `maxQueuedFrames` the oldest frames are dropped and counted,
 * because a real-time listener is better served by fresh audio than by a growing delay. `OpusFrameEncoder` wraps
 * opusscript in its restricted-low-delay mode (2.5 ms look-ahead instead of 6.5 ms: every ms counts on a live
 * round trip, and at 128 kbit/s the CELT-only mode is transparent for music), whose `encode()` needs a byte Buffer of interleaved s16le (an Int16Array silently yields garbage).
 */
import OpusScript from 'opusscript';

export const FRAME_SAMPLES = 960;

export class FrameQueue {
  readonly #maxQueuedFrames: number;
  #frames: Float32Array[][] = [];
  #partial: Float32Array[] = [new Float32Array(FRAME_SAMPLES), new Float32Array(FRAME_SAMPLES)];
  #partialSamples = 0;
  droppedFrames = 0;

  constructor(maxQueuedFrames = 15) {
    this.#maxQueuedFrames = maxQueuedFrames;
  }

  get queuedFrames(): number {
    return this.#frames.length;
  }

  /** Appends a planar block (mono is duplicated to both channels). */
  push(block: readonly Float32Array[]): void {
    const left = block[0];
    if (left === undefined) return;
    const right = block[1] ?? left;
    let pos = 0;
    while (pos < left.length) {
      const take = Math.min(FRAME_SAMPLES - this.#partialSamples, left.length - pos);
      this.#partial[0]!.set(left.subarray(pos, pos + take), this.#partialSamples);
      this.#partial[1]!.set(right.subarray(pos, pos + take), this.#partialSamples);
      this.#partialSamples += take;
      pos += take;
      if (this.#partialSamples === FRAME_SAMPLES) {
        this.#frames.push(this.#partial);
        this.#partial = [new Float32Array(FRAME_SAMPLES), new Float32Array(FRAME_SAMPLES)];
        this.#partialSamples = 0;
      }
    }
    const excess = this.#frames.length - this.#maxQueuedFrames;
    if (excess > 0) {
      this.#frames.splice(0, excess);
      this.droppedFrames += excess;
    }
  }

  shift(): Float32Array[] | undefined {
    return this.#frames.shift();
  }
}

/** One track's encoder: a 20 ms planar frame in, one RTP payload out. */
export interface FrameEncoder {
  encode(frame: readonly Float32Array[]): Buffer;
  delete(): void;
}

export class OpusFrameEncoder implements FrameEncoder {
  readonly #encoder = new OpusScript(48000, 2, OpusScript.Application.RESTRICTED_LOWDELAY);
  readonly #pcm = Buffer.alloc(FRAME_SAMPLES * 2 * 2);

  constructor(bitrateBps = 128_000) {
    this.#encoder.setBitrate(bitrateBps);
  }

  encode(frame: readonly Float32Array[]): Buffer {
    const left = frame[0]!;
    const right = frame[1] ?? left;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      this.#pcm.writeInt16LE(toS16(left[i]!), 4 * i);
      this.#pcm.writeInt16LE(toS16(right[i]!), 4 * i + 2);
    }
    return this.#encoder.encode(this.#pcm, FRAME_SAMPLES);
  }

  delete(): void {
    this.#encoder.delete();
  }
}

function toS16(x: number): number {
  const v = Math.round(x * 32767);
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
