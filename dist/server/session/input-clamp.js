/**
 * f32le input beyond ±INPUT_SAMPLE_LIMIT is clamped to it. Finite but huge values (±3.4e38) overflow the STFT's
 * power sums to Infinity and come back as NaN; 32 (+30 dBFS) leaves ample headroom above full scale for any real
 * source while keeping every stage finite. Announced to clients as `limits.inputSampleLimit`.
 */
export const INPUT_SAMPLE_LIMIT = 32;
/** Clamps planar samples to [−limit, limit] in place; returns how many sample frames had a clamped channel. */
export function clampSamples(samples, limit = INPUT_SAMPLE_LIMIT) {
    const frames = samples[0]?.length ?? 0;
    let clampedFrames = 0;
    for (let i = 0; i < frames; i++) {
        let clamped = false;
        for (const ch of samples) {
            const v = ch[i];
            if (v > limit) {
                ch[i] = limit;
                clamped = true;
            }
            else if (v < -limit) {
                ch[i] = -limit;
                clamped = true;
            }
        }
        if (clamped)
            clampedFrames++;
    }
    return clampedFrames;
}
//# sourceMappingURL=input-clamp.js.map