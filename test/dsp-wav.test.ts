import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WavError, decodeWav, encodeWav, readWav, writeWav, type WavFormat } from '../server/dsp/wav.ts';
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
