/** `mask` is [channels, bins] flattened (the model's per-item layout); writes m · X into the preallocated frame. */
export function applyMask(mixture, mask, vocals) {
    const channels = mixture.re.length;
    const bins = mixture.re[0]?.length ?? 0;
    if (mask.length !== channels * bins)
        throw new RangeError(`mask has ${mask.length} values, need ${channels * bins}`);
    for (let c = 0; c < channels; c++) {
        const xr = mixture.re[c];
        const xi = mixture.im[c];
        const vr = vocals.re[c];
        const vi = vocals.im[c];
        const base = c * bins;
        for (let k = 0; k < bins; k++) {
            const m = mask[base + k];
            vr[k] = m * xr[k];
            vi[k] = m * xi[k];
        }
    }
}
/** Model input features: |X| per channel and bin, [channels, bins] flattened. */
export function magnitudeFeatures(frame, out) {
    const channels = frame.re.length;
    const bins = frame.re[0]?.length ?? 0;
    for (let c = 0; c < channels; c++) {
        const re = frame.re[c];
        const im = frame.im[c];
        const base = c * bins;
        for (let k = 0; k < bins; k++) {
            const r = re[k];
            const i = im[k];
            out[base + k] = Math.sqrt(r * r + i * i); // Math.hypot is several times slower in V8
        }
    }
    return out;
}
//# sourceMappingURL=mask.js.map