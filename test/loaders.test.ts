import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../server/dsp/wav.ts';
import { DatasetError } from '../training/data/dataset-error.ts';
import { loadTrackAudio, openWavSplit, TRACK_FILES, type TrackFile } from '../training/data/musdb.ts';
import { openMusdb } from '../training/data/open-dataset.ts';
import { decodeStemMp4, openStemMp4Split } from '../training/data/stem-mp4.ts';

const SR = 44100;

/** Distinct, deterministic stereo content per file: tones at different pitches, L and R differ. */
function stem(file: TrackFile, n: number, seed: number): Float32Array[] {
  const f0 = { mixture: 0, vocals: 440, drums: 97, bass: 55, other: 660 }[file] + seed * 10;
  return [0, 1].map((c) =>
    Float32Array.from({ length: n }, (_, i) => Math.round(0.1 * (1 + c) * Math.sin((2 * Math.PI * f0 * i) / SR) * 32767) / 32768),
  );
}

async function writeTrack(dir: string, n: number, seed: number, override: Partial<Record<TrackFile, () => Promise<void>>> = {}): Promise<Record<TrackFile, Float32Array[]>> {
  mkdirSync(dir, { recursive: true });
  const audio = {} as Record<TrackFile, Float32Array[]>;
  for (const f of ['vocals', 'drums', 'bass', 'other'] as const) audio[f] = stem(f, n, seed);
  audio.mixture = audio.vocals.map((ch, c) => Float32Array.from(ch, (v, i) => v + audio.drums[c]![i]! + audio.bass[c]![i]! + audio.other[c]![i]!));
  for (const f of TRACK_FILES) {
    const custom = override[f];
    if (custom !== undefined) await custom();
    else await writeWav(join(dir, `${f}.wav`), audio[f], SR, 's16');
  }
  return audio;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((ch, c) => ch.forEach((v, i) => {
    m = Math.max(m, Math.abs(v - b[c]![i]!));
  }));
  return m;
}

/** The DatasetError code a promise rejects with ('resolved' / 'not a DatasetError: …' otherwise). */
async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof DatasetError ? err.code : `not a DatasetError: ${String(err)}`;
  }
}

const root = mkdtempSync(join(tmpdir(), 'livestem-loaders-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

t.test('reads the HQ folder layout: sorted tracks, excerpts, accompaniment = drums + bass + other', async (t) => {
  const base = join(root, 'hq');
  const a = await writeTrack(join(base, 'test', 'B track'), 3000, 1);
  await writeTrack(join(base, 'test', 'A track'), 2000, 2);
  const tracks = await openMusdb(base, 'test');
  t.same(tracks.map((x) => x.name), ['A track', 'B track']);
  const b = tracks[1]!;
  t.equal(b.lengthSamples, 3000);
  t.equal(b.format, 'wav');
  const excerpt = await b.read('vocals', 1000, 500);
  t.equal(excerpt.length, 2);
  t.equal(maxDiff(excerpt, a.vocals.map((ch) => ch.subarray(1000, 1500))), 0, 'excerpt is bit-exact');
  const tail = await b.read('bass', 2900, 200);
  t.equal(tail[0]!.length, 200);
  t.equal(tail[0]![150], 0, 'past the end reads as zeros');
  const full = await loadTrackAudio(b);
  const acc = a.drums.map((ch, c) => Float32Array.from(ch, (v, i) => v + a.bass[c]![i]! + a.other[c]![i]!));
  t.ok(maxDiff(full.accompaniment, acc) < 1e-6, 'accompaniment = drums + bass + other');
  t.ok(maxDiff(full.mixture, full.vocals.map((ch, c) => Float32Array.from(ch, (v, i) => v + full.accompaniment[c]![i]!))) < 1e-4,
    'mixture = vocals + accompaniment (to 16-bit rounding)');
});

t.test('a split assembled from symlinked track folders of other sets reads like one set; stray files are ignored', async (t) => {
  const a = join(root, 'set-a', 'train', 'a1');
  const b = join(root, 'set-b', 'train', 'b1');
  await writeTrack(a, 1000, 3);
  await writeTrack(b, 1200, 4);
  const mix = join(root, 'mixed', 'train');
  mkdirSync(mix, { recursive: true });
  symlinkSync(a, join(mix, 'a1'));
  symlinkSync(b, join(mix, 'b1'));
  writeFileSync(join(mix, 'notes.txt'), 'not a track');
  symlinkSync(join(root, 'set-a', 'train', 'a1', 'vocals.wav'), join(mix, 'link-to-a-file'));
  const tracks = await openWavSplit(join(root, 'mixed'), 'train');
  t.same(tracks.map((x) => [x.name, x.lengthSamples]), [['a1', 1000], ['b1', 1200]]);
});

t.test('clear, coded errors for a missing folder, wrong rate, mono file, missing stem, length mismatch', async (t) => {
  const base = join(root, 'bad');
  t.equal(await rejectionCode(openMusdb(base, 'train')), 'LIVESTEM_DATA_MISSING_FOLDER', 'missing split folder');
  mkdirSync(join(base, 'empty'), { recursive: true });
  t.equal(await rejectionCode(openWavSplit(base, 'empty')), 'LIVESTEM_DATA_NO_TRACKS', 'split without tracks');

  const n = 1000;
  const rate = join(base, 'rate', 'song');
  await writeTrack(rate, n, 1, { drums: () => writeWav(join(rate, 'drums.wav'), stem('drums', n, 1), 48000, 's16') });
  t.equal(await rejectionCode(openWavSplit(join(base), 'rate')), 'LIVESTEM_DATA_WRONG_SAMPLE_RATE', '48 kHz drums');

  const mono = join(base, 'mono', 'song');
  await writeTrack(mono, n, 1, { vocals: () => writeWav(join(mono, 'vocals.wav'), [stem('vocals', n, 1)[0]!], SR, 's16') });
  t.equal(await rejectionCode(openWavSplit(base, 'mono')), 'LIVESTEM_DATA_MONO', 'mono vocals');

  const missing = join(base, 'missing', 'song');
  await writeTrack(missing, n, 1);
  unlinkSync(join(missing, 'bass.wav'));
  t.equal(await rejectionCode(openWavSplit(base, 'missing')), 'LIVESTEM_DATA_MISSING_STEM', 'no bass.wav');

  const len = join(base, 'len', 'song');
  await writeTrack(len, n, 1, { other: () => writeWav(join(len, 'other.wav'), stem('other', n + 7, 1), SR, 's16') });
  t.equal(await rejectionCode(openWavSplit(base, 'len')), 'LIVESTEM_DATA_LENGTH_MISMATCH', 'other.wav 7 samples longer');

  const garbage = join(base, 'garbage', 'song');
  await writeTrack(garbage, n, 1, { mixture: async () => { (await import('node:fs')).writeFileSync(join(garbage, 'mixture.wav'), 'not audio'); } });
  t.equal(await rejectionCode(openWavSplit(base, 'garbage')), 'LIVESTEM_DATA_BAD_WAV', 'text file named mixture.wav');
});

function haveFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds a MUSDB-style .stem.mp4 (streams: mixture, drums, bass, other, vocals) from WAVs with ffmpeg. */
function buildStemMp4(srcDir: string, out: string, codec: string[]): void {
  const order: TrackFile[] = ['mixture', 'drums', 'bass', 'other', 'vocals'];
  const args = ['-v', 'error', '-y', ...order.flatMap((f) => ['-i', join(srcDir, `${f}.wav`)]), ...order.flatMap((_, i) => ['-map', `${i}:a`]), ...codec, out];
  execFileSync('ffmpeg', args);
}

t.test('reads MUSDB18 .stem.mp4 (ALAC exactly, AAC approximately) with the stream order of the data set', { skip: !haveFfmpeg() && 'ffmpeg not installed' }, async (t) => {
  const src = join(root, 'mp4src');
  const a = await writeTrack(src, 44100, 3);
  const base = join(root, 'mp4');
  mkdirSync(join(base, 'test'), { recursive: true });
  buildStemMp4(src, join(base, 'test', 'Song.stem.mp4'), ['-c:a', 'alac']);
  const tracks = await openMusdb(base, 'test');
  t.equal(tracks.length, 1);
  const track = tracks[0]!;
  t.equal(track.format, 'stem-mp4');
  t.equal(track.name, 'Song');
  t.equal(track.lengthSamples, 44100);
  for (const f of TRACK_FILES) t.equal(maxDiff(await track.read(f, 0, 44100), a[f]), 0, `${f} decoded bit-exactly from its stream`);

  // the WAV cache path gives the same audio and reads from disk
  const cached = await openStemMp4Split(base, 'test', { wavCacheDir: join(root, 'mp4cache') });
  t.equal(cached[0]!.format, 'wav');
  t.equal(maxDiff(await cached[0]!.read('vocals', 100, 1000), a.vocals.map((ch) => ch.subarray(100, 1100))), 0);

  // AAC, as the real MUSDB18 is encoded: same length per stream, content close to the source
  const aac = join(root, 'aac.stem.mp4');
  buildStemMp4(src, aac, ['-c:a', 'aac', '-b:a', '256k']);
  const dec = await decodeStemMp4(aac);
  const n = dec.vocals[0]!.length;
  t.ok(Math.abs(n - 44100) <= 2048, `AAC decoded length ${n} ≈ 44100`);
  let err = 0;
  let sig = 0;
  for (let i = 4096; i < Math.min(n, 44100) - 4096; i++) {
    const d = dec.vocals[0]![i]! - a.vocals[0]![i]!;
    err += d * d;
    sig += a.vocals[0]![i]! ** 2;
  }
  t.ok(10 * Math.log10(sig / err) > 20, `AAC vocals SNR ${(10 * Math.log10(sig / err)).toFixed(1)} dB (stream 4 is vocals)`);

  // wrong rate inside an mp4
  const r48 = join(root, 'r48');
  mkdirSync(r48, { recursive: true });
  for (const f of TRACK_FILES) await writeWav(join(r48, `${f}.wav`), a[f].map((ch) => ch.subarray(0, 4800)), 48000, 's16');
  buildStemMp4(r48, join(root, 'r48.stem.mp4'), ['-c:a', 'alac']);
  t.equal(await rejectionCode(decodeStemMp4(join(root, 'r48.stem.mp4'))), 'LIVESTEM_DATA_WRONG_SAMPLE_RATE', '48 kHz stem.mp4');
});

t.test('a missing ffmpeg gives LIVESTEM_DATA_FFMPEG_MISSING, not a stack trace from spawn', async (t) => {
  const saved = process.env['PATH'];
  process.env['PATH'] = join(root, 'no-such-bin');
  try {
    t.equal(await rejectionCode(decodeStemMp4(join(root, 'whatever.stem.mp4'))), 'LIVESTEM_DATA_FFMPEG_MISSING', 'no ffmpeg on PATH');
  } finally {
    process.env['PATH'] = saved;
  }
});
