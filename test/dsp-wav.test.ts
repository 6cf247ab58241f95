import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import wavefile from 'wavefile';
import { WavError, decodeWav, encodeWav, parseWavHeader, readWav, writeWav, type WavFormat } from '../server/dsp/wav.ts';
import { maxAbsDiff, noise } from './helpers/signals.ts';

const STEP: Record<WavFormat, number> = { s16: 1 / 32768, s24: 1 / 8388608, f32: 0 };

t.test('WAV round trip for 16-bit, 24-bit and float32, mono and stereo', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livestem-wav-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const format of ['s16', 's24', 'f32'] as const) {
    for (const channels of [1, 2]) {
      const audio = Array.from({ length: channels }, (_, c) => noise(1000, c + 1, 0.9));
      const path = join(dir, `${format}-${channels}.wav`);
      await writeWav(path, audio, 22050, format);
      const back = await readWav(path);
      t.equal(back.sampleRateHz, 22050);
      t.equal(back.format, format);
      t.equal(back.channels.length, channels);
      const err = Math.max(...back.channels.map((c, i) => maxAbsDiff(c, audio[i]!)));
      t.ok(err <= STEP[format] / 2 + 1e-9, `${format} ${channels} ch: error ${err.toExponential(2)} within half a quantisation step`);
    }
  }
});

t.test('16-bit bytes on disk: little-endian PCM after a 44-byte header, full scale clamps', async (t) => {
  const bytes = encodeWav([Float32Array.from([0, 0.5, -1, 1.5])], 8000, 's16');
  t.equal(bytes.length, 44 + 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  t.same([view.getInt16(44, true), view.getInt16(46, true), view.getInt16(48, true), view.getInt16(50, true)], [0, 16384, -32768, 32767]);
  t.equal(view.getUint32(24, true), 8000, 'sample rate field');
});

t.test('unreadable input gives a WavError with a clear message', async (t) => {
  t.throws(() => decodeWav(new Uint8Array([1, 2, 3, 4])), WavError);
  await t.rejects(readWav('/nonexistent/file.wav'), /cannot read \/nonexistent\/file.wav: ENOENT/);
  const dir = await mkdtemp(join(tmpdir(), 'livestem-wav-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'junk.wav'), 'not a wav at all, just text');
  await t.rejects(readWav(join(dir, 'junk.wav')), WavError);
});

t.test('cross-check with the wavefile library: it reads what we write, we read what it writes', async (t) => {
  const audio = [noise(777, 3, 0.9), noise(777, 4, 0.9)];
  for (const format of ['s16', 's24', 'f32'] as const) {
    const theirs = new wavefile.WaveFile(encodeWav(audio, 48000, format));
    t.equal(theirs.bitDepth, { s16: '16', s24: '24', f32: '32f' }[format], `${format}: wavefile sees the bit depth`);
    const planes = theirs.getSamples(false, Float64Array) as unknown as Float64Array[];
    const scale = format === 's16' ? 32768 : format === 's24' ? 8388608 : 1;
    const err = Math.max(...planes.map((p, c) => maxAbsDiff(Float32Array.from(p, (v) => v / scale), audio[c]!)));
    t.ok(err <= STEP[format] / 2 + 1e-7, `${format}: wavefile decodes our file (error ${err.toExponential(2)})`);

    const bitDepth = { s16: '16', s24: '24', f32: '32f' }[format];
    const ints = audio.map((ch) => (format === 'f32' ? Float64Array.from(ch) : Float64Array.from(ch, (v) => Math.max(-scale, Math.min(scale - 1, Math.round(v * scale))))));
    const mine = new wavefile.WaveFile();
    mine.fromScratch(2, 48000, bitDepth, ints);
    const back = decodeWav(mine.toBuffer());
    const err2 = Math.max(...back.channels.map((c, i) => maxAbsDiff(c, audio[i]!)));
    t.ok(err2 <= STEP[format] / 2 + 1e-7, `${format}: we decode wavefile's file (error ${err2.toExponential(2)})`);
  }
});

t.test('header parsing: streamed files with an unknown data size, odd chunks before data, 32-bit int', async (t) => {
  const bytes = encodeWav([Float32Array.from([0.25, -0.25, 0.5])], 16000, 's16');
  const streamed = bytes.slice();
  new DataView(streamed.buffer).setUint32(40, 0xffffffff, true);
  t.equal(parseWavHeader(streamed).lengthSamples, 3, 'size 0xFFFFFFFF: length from the file size');
  // Insert a 3-byte LIST chunk (padded to 4) between fmt and data.
  const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]);
  const withList = new Uint8Array(bytes.length + list.length);
  withList.set(bytes.subarray(0, 36));
  withList.set(list, 36);
  withList.set(bytes.subarray(36), 36 + list.length);
  t.same(Array.from(decodeWav(withList).channels[0]!), [0.25, -0.25, 0.5]);
  const s32 = new wavefile.WaveFile();
  s32.fromScratch(1, 8000, '32', [1073741824, -2147483648]);
  t.same(Array.from(decodeWav(s32.toBuffer()).channels[0]!), [0.5, -1]);
  t.throws(() => parseWavHeader(bytes.subarray(0, 30)), /no data chunk|too short/);
});
