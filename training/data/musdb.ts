/**
 * MUSDB18 / MUSDB18-HQ data sets as a list of tracks that can be read whole or in excerpts.
 *
 * Layouts:
 * - HQ folders (the real MUSDB18-HQ and our synthetic generator): `<root>/<split>/<track>/{mixture,vocals,drums,bass,
 *   other}.wav`, 44.1 kHz stereo, every file the same length. Read by random access, nothing is held in memory.
 * - MUSDB18 `.stem.mp4` (`<root>/<split>/<track>.stem.mp4`): see stem-mp4.ts (decoded with ffmpeg).
 * Splits: the real set has train/test; the generator also writes valid.
 * accompaniment = drums + bass + other.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './dataset-error.ts';
import { readWavInfo, readWavRange, type WavFileInfo } from './wav-file.ts';

export const STEM_NAMES = ['vocals', 'drums', 'bass', 'other'] as const;
export type StemName = (typeof STEM_NAMES)[number];
export const TRACK_FILES = ['mixture', ...STEM_NAMES] as const;
export type TrackFile = (typeof TRACK_FILES)[number];
export const MUSDB_SAMPLE_RATE_HZ = 44100;
export const MUSDB_CHANNELS = 2;

export interface MusdbTrack {
  readonly name: string;
  readonly split: string;
  /** Track folder (HQ) or .stem.mp4 file. */
  readonly path: string;
  readonly format: 'wav' | 'stem-mp4';
  readonly sampleRateHz: number;
  readonly lengthSamples: number;
  /** Planar stereo float32 of one file, samples [startSample, startSample + lengthSamples); zeros past the end. */
  read(file: TrackFile, startSample: number, lengthSamples: number): Promise<Float32Array[]>;
}

export interface TrackAudio {
  name: string;
  sampleRateHz: number;
  mixture: Float32Array[];
  vocals: Float32Array[];
  drums: Float32Array[];
  bass: Float32Array[];
  other: Float32Array[];
  accompaniment: Float32Array[];
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Refuses anything but 44.1 kHz stereo. */
export function checkAudioFormat(path: string, sampleRateHz: number, channels: number): void {
  if (sampleRateHz !== MUSDB_SAMPLE_RATE_HZ) {
    throw new DatasetError('LIVESTEM_DATA_WRONG_SAMPLE_RATE', path,
      `sample rate ${sampleRateHz} Hz, MUSDB audio must be ${MUSDB_SAMPLE_RATE_HZ} Hz (resample it first)`);
  }
  if (channels === 1) throw new DatasetError('LIVESTEM_DATA_MONO', path, 'mono file, MUSDB audio must be stereo');
  if (channels !== MUSDB_CHANNELS) {
    throw new DatasetError('LIVESTEM_DATA_BAD_WAV', path, `${channels} channels, MUSDB audio must be stereo`);
  }
}

export function checkEqualLengths(path: string, lengths: Record<string, number>): number {
  const values = Object.values(lengths);
  const first = values[0] ?? 0;
  if (values.some((v) => v !== first)) {
    const list = Object.entries(lengths).map(([k, v]) => `${k} ${v}`).join(', ');
    throw new DatasetError('LIVESTEM_DATA_LENGTH_MISMATCH', path, `stems differ in length (samples: ${list})`);
  }
  return first;
}

class WavFolderTrack implements MusdbTrack {
  readonly format = 'wav' as const;
  readonly sampleRateHz = MUSDB_SAMPLE_RATE_HZ;

  constructor(
    readonly name: string,
    readonly split: string,
    readonly path: string,
    readonly lengthSamples: number,
    private readonly files: Record<TrackFile, WavFileInfo>,
  ) {}

  read(file: TrackFile, startSample: number, lengthSamples: number): Promise<Float32Array[]> {
    return readWavRange(this.files[file], startSample, lengthSamples);
  }
}

/** Opens one HQ track folder, checking every file is there, 44.1 kHz, stereo and of equal length. */
export async function openWavTrack(dir: string, name: string, split: string): Promise<MusdbTrack> {
  const files = {} as Record<TrackFile, WavFileInfo>;
  const lengths: Record<string, number> = {};
  for (const file of TRACK_FILES) {
    const path = join(dir, `${file}.wav`);
    if (!(await stat(path).then((s) => s.isFile(), () => false))) {
      throw new DatasetError('LIVESTEM_DATA_MISSING_STEM', path, `track "${name}" has no ${file}.wav`);
    }
    const info = await readWavInfo(path);
    checkAudioFormat(path, info.sampleRateHz, info.channels);
    files[file] = info;
    lengths[file] = info.lengthSamples;
  }
  const length = checkEqualLengths(dir, lengths);
  return new WavFolderTrack(name, split, dir, length, files);
}

/** Tracks of `<root>/<split>` in the HQ folder layout, sorted by name (hidden folders skipped). */
export async function openWavSplit(root: string, split: string): Promise<MusdbTrack[]> {
  const dir = join(root, split);
  if (!(await isDirectory(dir))) {
    throw new DatasetError('LIVESTEM_DATA_MISSING_FOLDER', dir, `no "${split}" folder in the data set root`);
  }
  // hidden folders are work in progress (the generator writes `.<track>.tmp-*` and renames when done)
  // Symlinked track folders count too: a training set can be assembled from several generated sets without copies.
  const entries: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(join(dir, e.name))))) entries.push(e.name);
  }
  entries.sort();
  if (entries.length === 0) throw new DatasetError('LIVESTEM_DATA_NO_TRACKS', dir, 'no track folders');
  const tracks: MusdbTrack[] = [];
  for (const name of entries) tracks.push(await openWavTrack(join(dir, name), name, split));
  return tracks;
}

/** Element-wise sum of planar signals of equal shape. */
export function sumSignals(signals: Float32Array[][]): Float32Array[] {
  const first = signals[0];
  if (first === undefined) throw new RangeError('nothing to sum');
  return first.map((ch, c) => {
    const out = new Float32Array(ch.length);
    for (const s of signals) {
      const x = s[c]!;
      for (let i = 0; i < out.length; i++) out[i]! += x[i]!;
    }
    return out;
  });
}

/** Reads a whole track (or a part of it) with accompaniment = drums + bass + other. */
export async function loadTrackAudio(track: MusdbTrack, startSample = 0, lengthSamples = track.lengthSamples - startSample): Promise<TrackAudio> {
  const [mixture, vocals, drums, bass, other] = await Promise.all(
    TRACK_FILES.map((f) => track.read(f, startSample, lengthSamples)),
  );
  return {
    name: track.name,
    sampleRateHz: track.sampleRateHz,
    mixture: mixture!,
    vocals: vocals!,
    drums: drums!,
    bass: bass!,
    other: other!,
    accompaniment: sumSignals([drums!, bass!, other!]),
  };
}
