export function makeWindow(kind, length) {
    const out = new Float32Array(length);
    for (let n = 0; n < length; n++) {
        const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
        out[n] = kind === 'hann' ? hann : Math.sqrt(hann);
    }
    return out;
}
//# sourceMappingURL=window.js.map