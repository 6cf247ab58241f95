/**
 * Dense float64 solves for BSS-Eval's distortion filters. The Gram matrices are symmetric positive SEMI-definite:
 * a centre-panned (mono) reference or a band-limited one makes delayed copies linearly dependent. numpy's LU then
 * returns a huge, arbitrary null-space component that cancels in the projection; here a pivoted-free Cholesky drops
 * the dependent directions instead (pivot ≤ n·eps·max diagonal → that unknown is 0), which gives the same projection
 * — the only thing the metrics use — without amplifying rounding. Matrices are row-major n×n, right-hand sides n×m.
 */

/**
 * In-place lower Cholesky factor of a symmetric positive semidefinite matrix (upper triangle left untouched).
 * Rows whose pivot falls below the dependency tolerance are zeroed; returns how many were dropped.
 */
export function choleskyInPlace(a: Float64Array, n: number): number {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]!);
  const tolerance = n * 2.220446049250313e-16 * maxDiag;
  let dropped = 0;
  // Row-oriented (Cholesky–Banachiewicz) on tiles of 4 rows × 2 columns: each loaded factor value feeds several
  // products, which is what makes a 2048² factorisation take a fraction of a second instead of seconds.
  for (let i0 = 0; i0 < n; i0 += 4) {
    const rows = Math.min(4, n - i0);
    if (rows === 4) offDiagonalTile4(a, n, i0);
    else for (let r = 0; r < rows; r++) offDiagonalRow(a, n, i0 + r, i0);
    for (let r = 0; r < rows; r++) {
      const i = i0 + r;
      const ri = i * n;
      for (let j = i0; j <= i; j++) {
        const rj = j * n;
        let s = a[ri + j]!;
        for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
        if (i === j) {
          if (s > tolerance) {
            a[ri + i] = Math.sqrt(s);
          } else {
            a.fill(0, ri, ri + i + 1);
            dropped++;
          }
        } else {
          const d = a[rj + j]!;
          a[ri + j] = d === 0 ? 0 : s / d;
        }
      }
    }
  }
  return dropped;
}

/** Factor entries of row i for columns 0..jEnd-1 (all columns of finished rows). */
function offDiagonalRow(a: Float64Array, n: number, i: number, jEnd: number): void {
  const ri = i * n;
  for (let j = 0; j < jEnd; j++) {
    const rj = j * n;
    let s = a[ri + j]!;
    for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
    const d = a[rj + j]!;
    a[ri + j] = d === 0 ? 0 : s / d;
  }
}

/** offDiagonalRow for rows i0..i0+3 at once, columns 0..i0-1 two at a time. */
function offDiagonalTile4(a: Float64Array, n: number, i0: number): void {
  const r0 = i0 * n;
  const r1 = r0 + n;
  const r2 = r1 + n;
  const r3 = r2 + n;
  let j = 0;
  for (; j + 1 < i0; j += 2) {
    const ja = j * n;
    const jb = ja + n;
    let s0a = 0, s1a = 0, s2a = 0, s3a = 0, s0b = 0, s1b = 0, s2b = 0, s3b = 0;
    for (let k = 0; k < j; k++) {
      const la = a[ja + k]!;
      const lb = a[jb + k]!;
      const x0 = a[r0 + k]!;
      const x1 = a[r1 + k]!;
      const x2 = a[r2 + k]!;
      const x3 = a[r3 + k]!;
      s0a += x0 * la;
      s1a += x1 * la;
      s2a += x2 * la;
      s3a += x3 * la;
      s0b += x0 * lb;
      s1b += x1 * lb;
      s2b += x2 * lb;
      s3b += x3 * lb;
    }
    const da = a[ja + j]!;
    const db = a[jb + j + 1]!;
    const lbj = a[jb + j]!;
    const v0 = da === 0 ? 0 : (a[r0 + j]! - s0a) / da;
    const v1 = da === 0 ? 0 : (a[r1 + j]! - s1a) / da;
    const v2 = da === 0 ? 0 : (a[r2 + j]! - s2a) / da;
    const v3 = da === 0 ? 0 : (a[r3 + j]! - s3a) / da;
    a[r0 + j] = v0;
    a[r1 + j] = v1;
    a[r2 + j] = v2;
    a[r3 + j] = v3;
    a[r0 + j + 1] = db === 0 ? 0 : (a[r0 + j + 1]! - s0b - v0 * lbj) / db;
    a[r1 + j + 1] = db === 0 ? 0 : (a[r1 + j + 1]! - s1b - v1 * lbj) / db;
    a[r2 + j + 1] = db === 0 ? 0 : (a[r2 + j + 1]! - s2b - v2 * lbj) / db;
    a[r3 + j + 1] = db === 0 ? 0 : (a[r3 + j + 1]! - s3b - v3 * lbj) / db;
  }
  for (; j < i0; j++) {
    const rj = j * n;
    const d = a[rj + j]!;
    for (const ri of [r0, r1, r2, r3]) {
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = d === 0 ? 0 : s / d;
    }
  }
}

/** Solves L·Lᵀ·x = b in place in `b` (n×m); unknowns of dropped (zero-pivot) rows are set to 0. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, m: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const d = l[ri + i]!;
    for (let c = 0; c < m; c++) {
      if (d === 0) {
        b[i * m + c] = 0;
        continue;
      }
      let s = b[i * m + c]!;
      for (let k = 0; k < i; k++) s -= l[ri + k]! * b[k * m + c]!;
      b[i * m + c] = s / d;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const d = l[i * n + i]!;
    for (let c = 0; c < m; c++) {
      if (d === 0) {
        b[i * m + c] = 0;
        continue;
      }
      let s = b[i * m + c]!;
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k * m + c]!;
      b[i * m + c] = s / d;
    }
  }
}

/** A factored symmetric positive semidefinite matrix, reused for several right-hand sides. */
export class SymmetricSolver {
  readonly n: number;
  /** Directions dropped as linearly dependent (0 for a well-conditioned Gram matrix). */
  readonly droppedPivots: number;
  private readonly factor: Float64Array;

  /** `a` is taken over (overwritten by its factor). */
  constructor(a: Float64Array, n: number) {
    this.n = n;
    this.droppedPivots = choleskyInPlace(a, n);
    this.factor = a;
  }

  /** Returns x with (matrix)·x = b (least-squares projection sense when dependent), b given n×m row-major. */
  solve(b: Float64Array, m: number): Float64Array {
    const x = Float64Array.from(b);
    choleskySolveInPlace(this.factor, this.n, x, m);
    return x;
  }
}
