/**
 * Input the session accepted from `write()`, as wire bytes, on the caller's input timeline (samples per channel):
 *
 *   start ──── retained, sent ──── sent ──── not sent yet ──── end
 *
 * Sent audio is kept until output proves the server had it (then `trimBefore`), so after a dropped connection it
 * can be sent again from wherever the server says it stopped (`rewind`). Bytes, once stored, are never modified:
 * `take()` may hand out views into the store.
 */

/** Small writes are gathered into blocks of this size so a long run of tiny writes stays a short list. */
const BLOCK_BYTES = 64 * 1024;

interface Block {
  /** Input sample offset of the block's first frame. */
  offset: number;
  bytes: Uint8Array;
  /** Frames written into `bytes` so far (the last block fills up over several pushes). */
  frames: number;
}

export class InputOutbox {
  #blocks: Block[] = [];
  #start = 0;
  #sent = 0;
  #end = 0;

  constructor(readonly frameBytes: number) {}

  get start(): number {
    return this.#start;
  }

  get sent(): number {
    return this.#sent;
  }

  get end(): number {
    return this.#end;
  }

  get unsentFrames(): number {
    return this.#end - this.#sent;
  }

  /** Sent frames that are still retained (what the server may not have). */
  get inFlightFrames(): number {
    return this.#sent - this.#start;
  }

  /** Appends whole frames of interleaved PCM. */
  push(bytes: Uint8Array): void {
    let pos = 0;
    const last = this.#blocks.at(-1);
    if (last !== undefined) {
      const room = Math.min(bytes.byteLength, last.bytes.byteLength - last.frames * this.frameBytes);
      if (room > 0) {
        last.bytes.set(bytes.subarray(0, room), last.frames * this.frameBytes);
        last.frames += room / this.frameBytes;
        pos = room;
      }
    }
    const rest = bytes.byteLength - pos;
    if (rest > 0) {
      const offset = this.#end + pos / this.frameBytes;
      if (rest >= BLOCK_BYTES) {
        // large writes are kept as they are (encodePcm made them for us, nobody else holds them)
        this.#blocks.push({ offset, bytes: bytes.subarray(pos), frames: rest / this.frameBytes });
      } else {
        const block = new Uint8Array(Math.floor(BLOCK_BYTES / this.frameBytes) * this.frameBytes);
        block.set(bytes.subarray(pos));
        this.#blocks.push({ offset, bytes: block, frames: rest / this.frameBytes });
      }
    }
    this.#end += bytes.byteLength / this.frameBytes;
  }

  /** The next `frames` (at most what is unsent) as one message; they count as sent from now on. */
  take(frames: number): Uint8Array {
    const from = this.#sent;
    const to = Math.min(this.#end, from + frames);
    this.#sent = to;
    return this.#slice(from, to);
  }

  /** Forgets frames before `offset` (the server provably has them). Never beyond what was sent. */
  trimBefore(offset: number): void {
    const to = Math.min(offset, this.#sent);
    if (to <= this.#start) return;
    this.#start = to;
    let drop = 0;
    while (drop < this.#blocks.length && this.#blocks[drop]!.offset + this.#blocks[drop]!.frames <= to && this.#blocks[drop]!.frames * this.frameBytes === this.#blocks[drop]!.bytes.byteLength) drop++;
    if (drop > 0) this.#blocks.splice(0, drop);
  }

  /** Sends again from `offset` (where a resumed or new session stands); it must still be retained. */
  rewind(offset: number): void {
    if (offset < this.#start || offset > this.#sent) {
      throw new RangeError(`cannot resend from ${offset}: retained input is [${this.#start}, ${this.#sent})`);
    }
    this.#sent = offset;
  }

  #slice(from: number, to: number): Uint8Array {
    const fb = this.frameBytes;
    const parts: Uint8Array[] = [];
    for (const b of this.#blocks) {
      const lo = Math.max(from, b.offset);
      const hi = Math.min(to, b.offset + b.frames);
      if (hi > lo) parts.push(b.bytes.subarray((lo - b.offset) * fb, (hi - b.offset) * fb));
      if (b.offset >= to) break;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array((to - from) * fb);
    let p = 0;
    for (const part of parts) {
      out.set(part, p);
      p += part.byteLength;
    }
    return out;
  }
}
