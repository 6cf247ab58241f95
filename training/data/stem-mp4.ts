/**
 * MUSDB18 `.stem.mp4` files (Native Instruments stems): audio stream 0 = mixture, 1 = drums, 2 = bass, 3 = other,
 * 4 = vocals. Decoded with the ffmpeg/ffprobe binaries (scripts/setup-system.sh installs them), never resampled:
 * a stream that is not 44.1 kHz stereo is refused like a WAV would be.
 * Either kept in memory (float32 planar, ~21 MB per stem-minute: fine for evaluation or a few tracks), or converted
 * once to the HQ folder layout so the training sampler can read excerpts from disk (`wavCacheDir`).
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeWav } from '../../server/dsp/wav.ts';
import { DatasetError } from './dataset-error.ts';
import {
  checkAudioFormat,
  checkEqualLengths,
  isDirectory,
  MUSDB_SAMPLE_RATE_HZ,
  openWavTrack,
  TRACK_FILES,
  type MusdbTrack,
  type TrackFile,
} from './musdb.ts';

/** Audio stream index of each file inside a .stem.mp4. */
export const STEM_MP4_STREAMS: Record<TrackFile, number> = { mixture: 0, drums: 1, bass: 2, other: 3, vocals: 4 };
export const STEM_MP4_SUFFIX = '.stem.mp4';

interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

function run(tool: 'ffmpeg' | 'ffprobe', args: string[], path: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new DatasetError('LIVESTEM_DATA_FFMPEG_MISSING', path,
          `${tool} is not installed; it is needed to decode .stem.mp4 (run scripts/setup-system.sh or apt-get install ffmpeg)`, { cause: e }));
      } else {
        reject(new DatasetError('LIVESTEM_DATA_DECODE_FAILED', path, `${tool} failed to start: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: err, code }));
  });
}

interface StreamInfo {
  sampleRateHz: number;
  channels: number;
}

/** Audio streams of a .stem.mp4, in order. */
export async function probeStemMp4(path: string): Promise<StreamInfo[]> {
  const r = await run('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=sample_rate,channels', '-of', 'json', path], path);
  if (r.code !== 0) throw new DatasetError('LIVESTEM_DATA_DECODE_FAILED', path, `ffprobe failed: ${r.stderr.trim()}`);
  const parsed = JSON.parse(r.stdout.toString()) as { streams?: { sample_rate?: string; channels?: number }[] };
  return (parsed.streams ?? []).map((s) => ({ sampleRateHz: Number(s.sample_rate), channels: s.channels ?? 0 }));
}

async function decodeStream(path: string, streamIndex: number, channels: number): Promise<Float32Array[]> {
  const r = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', `0:a:${streamIndex}`, '-f', 'f32le', '-c:a', 'pcm_f32le', '-'], path);
  if (r.code !== 0) {
    throw new DatasetError('LIVESTEM_DATA_DECODE_FAILED', path, `ffmpeg could not decode audio stream ${streamIndex}: ${r.stderr.trim()}`);
  }
  const frames = Math.floor(r.stdout.length / (4 * channels));
  const view = new DataView(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) out[c]![i] = view.getFloat32((i * channels + c) * 4, true);
  }
  return out;
}

/** Decodes all five streams of a .stem.mp4, checking 44.1 kHz stereo and equal lengths. */
export async function decodeStemMp4(path: string): Promise<Record<TrackFile, Float32Array[]>> {
  const streams = await probeStemMp4(path);
  if (streams.length < 5) {
    throw new DatasetError('LIVESTEM_DATA_MISSING_STEM', path, `${streams.length} audio streams, a MUSDB .stem.mp4 has 5 (mixture, drums, bass, other, vocals)`);
  }
  const audio = {} as Record<TrackFile, Float32Array[]>;
  const lengths: Record<string, number> = {};
  for (const file of TRACK_FILES) {
    const info = streams[STEM_MP4_STREAMS[file]]!;
    checkAudioFormat(`${path} [${file}]`, info.sampleRateHz, info.channels);
    audio[file] = await decodeStream(path, STEM_MP4_STREAMS[file], info.channels);
    lengths[file] = audio[file][0]!.length;
  }
  checkEqualLengths(path, lengths);
  return audio;
}

class MemoryTrack implements MusdbTrack {
  readonly format = 'stem-mp4' as const;
  readonly sampleRateHz = MUSDB_SAMPLE_RATE_HZ;
  readonly lengthSamples: number;

  constructor(
    readonly name: string,
    readonly split: string,
    readonly path: string,
    private readonly audio: Record<TrackFile, Float32Array[]>,
  ) {
    this.lengthSamples = audio.mixture[0]!.length;
  }

  read(file: TrackFile, startSample: number, lengthSamples: number): Promise<Float32Array[]> {
    return Promise.resolve(
      this.audio[file].map((ch) => {
        const out = new Float32Array(lengthSamples);
        const from = Math.max(0, startSample);
        const to = Math.min(ch.length, startSample + lengthSamples);
        if (to > from) out.set(ch.subarray(from, to), from - startSample);
        return out;
      }),
    );
  }
}

export interface StemMp4Options {
  /** Convert each track once to `<wavCacheDir>/<split>/<track>/*.wav` and read from there (no audio in memory). */
  wavCacheDir?: string;
}

/** Tracks of `<root>/<split>/*.stem.mp4`, sorted by name. */
export async function openStemMp4Split(root: string, split: string, options: StemMp4Options = {}): Promise<MusdbTrack[]> {
  const dir = join(root, split);
  if (!(await isDirectory(dir))) {
    throw new DatasetError('LIVESTEM_DATA_MISSING_FOLDER', dir, `no "${split}" folder in the data set root`);
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith(STEM_MP4_SUFFIX)).sort();
  if (files.length === 0) throw new DatasetError('LIVESTEM_DATA_NO_TRACKS', dir, `no ${STEM_MP4_SUFFIX} files`);
  const tracks: MusdbTrack[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const name = basename(file, STEM_MP4_SUFFIX);
    if (options.wavCacheDir === undefined) {
      tracks.push(new MemoryTrack(name, split, path, await decodeStemMp4(path)));
    } else {
      const trackDir = join(options.wavCacheDir, split, name);
      if (!(await isDirectory(trackDir))) await convertToWavFolder(path, trackDir);
      tracks.push(await openWavTrack(trackDir, name, split));
    }
  }
  return tracks;
}

/** Writes the five streams as 32-bit float WAVs (lossless w.r.t. the decoder), atomically per track. */
async function convertToWavFolder(path: string, trackDir: string): Promise<void> {
  const audio = await decodeStemMp4(path);
  const tmp = `${trackDir}.partial`;
  await mkdir(tmp, { recursive: true });
  for (const file of TRACK_FILES) await writeWav(join(tmp, `${file}.wav`), audio[file], MUSDB_SAMPLE_RATE_HZ, 'f32');
  await rename(tmp, trackDir);
}

/** True if `<root>/<split>` holds .stem.mp4 files. */
export async function hasStemMp4(root: string, split: string): Promise<boolean> {
  const dir = join(root, split);
  if (!(await isDirectory(dir))) return false;
  return (await readdir(dir)).some((f) => f.endsWith(STEM_MP4_SUFFIX));
}
