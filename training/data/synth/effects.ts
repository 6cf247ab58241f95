/**
 * sox-based processing (EQ, reverb, filters, sample-rate conversion): planar float audio in, planar float out.
 * Files go through a caller-owned temp folder; sox runs with dither off and in repeatable mode so output bytes
 * depend only on the input.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav } from '../../../server/dsp/wav.ts';
import { readToolWav, runTool } from './system-tools.ts';

let counter = 0;

/** Runs `sox in.wav [-r outRate] out.wav <effects>` and returns the output channels, trimmed/padded to `length`. */
export function soxProcess(channels: Float32Array[], sampleRateHz: number, effects: readonly string[], tmpDir: string,
  opts: { outRateHz?: number; lengthSamples?: number } = {}): Float32Array[] {
  const id = counter++;
  const input = join(tmpDir, `sox-in-${id}.wav`);
  const output = join(tmpDir, `sox-out-${id}.wav`);
  writeFileSync(input, encodeWav(channels, sampleRateHz, 'f32'));
  const rate = opts.outRateHz !== undefined ? ['-r', String(opts.outRateHz)] : [];
  runTool('sox', ['-D', '-R', '-V1', input, ...rate, '-e', 'floating-point', '-b', '32', output, ...effects]);
  const out = readToolWav(output).channels;
  const length = opts.lengthSamples;
  if (length === undefined) return out;
  return out.map((ch) => {
    const fixed = new Float32Array(length);
    fixed.set(ch.subarray(0, length));
    return fixed;
  });
}

/** Sample-rate conversion of a mono signal with sox's high-quality resampler. */
export function resampleMono(x: Float32Array, fromHz: number, toHz: number, tmpDir: string): Float32Array {
  if (fromHz === toHz) return x;
  const [out] = soxProcess([x], fromHz, ['rate', '-v', String(toHz)], tmpDir, { outRateHz: toHz });
  if (out === undefined) throw new RangeError('sox returned no channels');
  return out;
}
