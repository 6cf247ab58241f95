/**
 * Protocol version and the value sets a stream is described with (docs/protocol.md §3). The server validates `start`
 * against these lists and the SDK and load tester offer exactly them, so a rate or kind exists in one place only.
 */
export const PROTOCOL_VERSION = 1;
/** Sample rates a stream may use (in and out). A fixed list keeps every resampling ratio small and exact. */
export const SUPPORTED_SAMPLE_RATES_HZ = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
export const SAMPLE_FORMATS = ['s16le', 'f32le'];
export const OUTPUT_KINDS = ['vocals', 'accompaniment', 'karaoke'];
export function isSupportedSampleRate(rateHz) {
    return SUPPORTED_SAMPLE_RATES_HZ.includes(rateHz);
}
export function isSampleFormat(value) {
    return typeof value === 'string' && SAMPLE_FORMATS.includes(value);
}
//# sourceMappingURL=constants.js.map