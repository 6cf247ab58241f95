/**
 * Real FFT of a fixed power-of-two size on top of fft.js (radix-4, the fastest pure-JS FFT we measured).
 * Forward is unnormalised; inverse includes 1/nFft, so inverse(forward(x)) = x.
 */
import FFT from 'fft.js';
export class RealFft {
    nFft;
    bins;
    fft;
    timeIn;
    spectrum;
    timeOut;
    packed;
    constructor(nFft) {
        if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
            throw new RangeError(`nFft must be a power of two ≥ 4, got ${nFft}`);
        }
        this.nFft = nFft;
        this.bins = nFft / 2 + 1;
        this.fft = new FFT(nFft);
        this.timeIn = new Float64Array(nFft);
        this.spectrum = new Float64Array(2 * nFft);
        this.timeOut = new Float64Array(2 * nFft);
        this.packed = new Float64Array(2 * nFft);
    }
    /** `input` has nFft samples; writes bins 0..nFft/2 into `re`/`im`. */
    forward(input, re, im) {
        const x = this.timeIn;
        for (let n = 0; n < this.nFft; n++)
            x[n] = input[n] ?? 0;
        this.fft.realTransform(this.spectrum, x);
        const s = this.spectrum;
        for (let k = 0; k < this.bins; k++) {
            re[k] = s[2 * k];
            im[k] = s[2 * k + 1];
        }
    }
    /**
     * Two real transforms for the price of one complex FFT (z = a + i·b), e.g. the two channels of a stereo frame.
     * Same result as two `forward` calls.
     */
    forwardPair(a, b, reA, imA, reB, imB) {
        const n = this.nFft;
        const z = this.packed;
        for (let i = 0; i < n; i++) {
            z[2 * i] = a[i] ?? 0;
            z[2 * i + 1] = b[i] ?? 0;
        }
        this.fft.transform(this.spectrum, z);
        const s = this.spectrum;
        for (let k = 0; k < this.bins; k++) {
            const m = k === 0 ? 0 : n - k;
            const zr = s[2 * k];
            const zi = s[2 * k + 1];
            const wr = s[2 * m];
            const wi = s[2 * m + 1];
            reA[k] = 0.5 * (zr + wr);
            imA[k] = 0.5 * (zi - wi);
            reB[k] = 0.5 * (zi + wi);
            imB[k] = 0.5 * (wr - zr);
        }
    }
    /** Two inverse transforms with one complex IFFT: a = Re, b = Im of IFFT(A + i·B). Same result as two `inverse`. */
    inversePair(reA, imA, reB, imB, outA, outB) {
        const n = this.nFft;
        const half = n / 2;
        const s = this.spectrum;
        for (let k = 0; k <= half; k++) {
            // DC and Nyquist of a real signal have no imaginary part.
            const ai = k === 0 || k === half ? 0 : imA[k];
            const bi = k === 0 || k === half ? 0 : imB[k];
            const ar = reA[k];
            const br = reB[k];
            s[2 * k] = ar - bi;
            s[2 * k + 1] = ai + br;
            if (k > 0 && k < half) {
                s[2 * (n - k)] = ar + bi;
                s[2 * (n - k) + 1] = br - ai;
            }
        }
        this.fft.inverseTransform(this.timeOut, s);
        const t = this.timeOut;
        for (let i = 0; i < n; i++) {
            outA[i] = t[2 * i];
            outB[i] = t[2 * i + 1];
        }
    }
    /** Inverse of `forward` for a Hermitian spectrum given by its bins 0..nFft/2; writes nFft real samples. */
    inverse(re, im, out) {
        const n = this.nFft;
        const s = this.spectrum;
        for (let k = 0; k < this.bins; k++) {
            s[2 * k] = re[k];
            s[2 * k + 1] = im[k];
        }
        // DC and Nyquist of a real signal have no imaginary part; drop any a mask may have left there.
        s[1] = 0;
        s[n + 1] = 0;
        for (let k = 1; k < n / 2; k++) {
            s[2 * (n - k)] = re[k];
            s[2 * (n - k) + 1] = -im[k];
        }
        this.fft.inverseTransform(this.timeOut, s);
        const t = this.timeOut;
        for (let i = 0; i < n; i++)
            out[i] = t[2 * i];
    }
}
//# sourceMappingURL=fft.js.map