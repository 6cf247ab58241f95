/** Deterministic test signals, made in the test (no files). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function noise(length: number, seed: number, amplitude = 0.5): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length }, () => (rand() * 2 - 1) * amplitude);
}

/** Exponential sine sweep from f0 to f1 Hz. */
export function sineSweep(length: number, sampleRateHz: number, f0 = 20, f1 = 20000, amplitude = 0.8): Float32Array {
  const seconds = length / sampleRateHz;
  const k = Math.log(f1 / f0);
  return Float32Array.from({ length }, (_, i) => {
    const t = i / sampleRateHz;
    return amplitude * Math.sin(((2 * Math.PI * f0 * seconds) / k) * (Math.exp((t / seconds) * k) - 1));
  });
}

export function sine(length: number, sampleRateHz: number, freqHz: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / sampleRateHz));
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Splits `length` into chunks cycling through `sizes` (in the given order). */
export function chunkBounds(length: number, sizes: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  for (let start = 0; start < length; i++) {
    const end = Math.min(length, start + sizes[i % sizes.length]!);
    out.push([start, end]);
    start = end;
  }
  return out;
}
