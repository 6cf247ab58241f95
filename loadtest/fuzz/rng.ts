/**
 * Seeded randomness for the fuzzer. Every case draws from its own generator seeded by (run seed, case index), so a
 * case's bytes do not depend on how many cases ran before it, on scheduling, or on which phase it landed in: a failing
 * case is reproduced from `--seed S` and its index alone.
 */
import { Rng as SeededRng } from '../../training/data/synth/rng.ts';

/** A 32-bit mix of the run seed and a case index (splitmix-style), so neighbouring indices get unrelated streams. */
export function caseSeed(runSeed: number, index: number): number {
  let h = (Math.imul(runSeed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The song generator's seeded generator, plus the byte and string draws hostile input needs. */
export class Rng extends SeededRng {
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}
