/**
 * Protocol version and the value sets a stream is described with (docs/protocol.md §3). The server validates `start`
 * against these lists and the SDK and load tester offer exactly them, so a rate or kind exists in one place only.
 */

export const PROTOCOL_VERSION = 1;

/** Sample rates a stream may use (in and out). A fixed list keeps every resampling ratio small and exact. */
export const SUPPORTED_SAMPLE_RATES_HZ = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
export const SAMPLE_FORMATS = ['s16le', 'f32le'] as const;
export const OUTPUT_KINDS = ['vocals', 'accompaniment', 'karaoke'] as const;
/**
 * How output travels (`start.outputFraming`): `frames` — one binary frame per kind plus a JSON `vad` message per
 * output interval (protocol v1's original form, the default); `bundles` — one binary message per interval carrying
 * every requested kind and the VAD of its hops, with JSON `vad` messages only when vocal activity changes.
 */
export const OUTPUT_FRAMINGS = ['frames', 'bundles'] as const;

export type SupportedSampleRateHz = (typeof SUPPORTED_SAMPLE_RATES_HZ)[number];
export type SampleFormat = (typeof SAMPLE_FORMATS)[number];
export type OutputKind = (typeof OUTPUT_KINDS)[number];
export type OutputFraming = (typeof OUTPUT_FRAMINGS)[number];

export function isSupportedSampleRate(rateHz: number): rateHz is SupportedSampleRateHz {
  return (SUPPORTED_SAMPLE_RATES_HZ as readonly number[]).includes(rateHz);
}

export function isSampleFormat(value: unknown): value is SampleFormat {
  return typeof value === 'string' && (SAMPLE_FORMATS as readonly string[]).includes(value);
}
