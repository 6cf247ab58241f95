/**
 * Buffers the I/O thread decodes client audio into, handed to an engine worker by transfer and handed back by it
 * once the samples are in the pipeline, so steady-state streaming allocates no input audio on either thread. All
 * channels of one message share one buffer (one transfer); buffers come in power-of-two sizes so a free one fits the
 * next message of similar length. Bounded: beyond `maxBytes` a returned buffer is left to the garbage collector.
 */
const MIN_BYTES = 4096;

export class InputBufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Buffers waiting to be reused. */
  get size(): number {
    let n = 0;
    for (const list of this.free.values()) n += list.length;
    return n;
  }

  /** `channels` planar arrays of `frames` samples, views of one (possibly reused) buffer. Contents are stale. */
  take(channels: number, frames: number): Float32Array[] {
    const bytes = bucketBytes(channels * frames * 4);
    const reused = this.free.get(bytes)?.pop();
    if (reused) this.pooledBytes -= bytes;
    const buffer = reused ?? new ArrayBuffer(bytes);
    return Array.from({ length: channels }, (_, c) => new Float32Array(buffer, c * frames * 4, frames));
  }

  /** Buffers back from the engine; ones this pool would not have made (other sizes) are ignored. */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      const bytes = buffer.byteLength;
      if (bytes < MIN_BYTES || bytes !== bucketBytes(bytes) || this.pooledBytes + bytes > this.maxBytes) continue;
      let list = this.free.get(bytes);
      if (!list) this.free.set(bytes, (list = []));
      list.push(buffer);
      this.pooledBytes += bytes;
    }
  }
}

function bucketBytes(bytes: number): number {
  return Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
}
