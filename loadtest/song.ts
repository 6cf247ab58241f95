/**
 * The audio every session streams: a real song, looped, read from a per-session start position so sessions are not
 * in lockstep. Encoding to the wire format happens per frame (a few hundred samples), which is cheaper than keeping
 * a pre-encoded copy per frame size.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readWav } from '../server/dsp/wav.ts';
import { encodePcm } from '../server/protocol/pcm-codec.ts';
import type { SampleFormat } from '../server/protocol/messages.ts';

export interface Song {
  name: string;
  sampleRateHz: number;
  /** Planar, 1 or 2 channels. */
  channels: Float32Array[];
}

export const DEFAULT_SONG_DIR = 'data/synth/test';

export class SongCursor {
  private position: number;
  private readonly scratch: Float32Array[];

  constructor(
    private readonly song: Song,
    startSample: number,
    private readonly format: SampleFormat,
  ) {
    const length = song.channels[0]?.length ?? 0;
    if (length === 0) throw new Error(`song ${song.name} has no samples`);
    this.position = ((startSample % length) + length) % length;
    this.scratch = song.channels.map(() => new Float32Array(0));
  }

  /** The next `samples` sample frames as interleaved PCM, wrapping to the song's start. */
  next(samples: number): Uint8Array {
    const length = this.song.channels[0]!.length;
    for (let c = 0; c < this.song.channels.length; c++) {
      if (this.scratch[c]!.length !== samples) this.scratch[c] = new Float32Array(samples);
      const src = this.song.channels[c]!;
      const dst = this.scratch[c]!;
      let p = this.position;
      for (let i = 0; i < samples; i++) {
        dst[i] = src[p]!;
        p = p + 1 === length ? 0 : p + 1;
      }
    }
    this.position = (this.position + samples) % length;
    return encodePcm(this.scratch, this.format);
  }
}

async function findFirstWav(dir: string): Promise<string | null> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    return null;
  }
  const direct = entries.find((e) => e === 'mixture.wav');
  if (direct) return join(dir, direct);
  for (const e of entries) {
    const path = join(dir, e);
    if ((await stat(path)).isDirectory()) {
      const found = await findFirstWav(path);
      if (found) return found;
    }
  }
  const anyWav = entries.find((e) => e.endsWith('.wav'));
  return anyWav ? join(dir, anyWav) : null;
}

/** `--input` when given, else the first track (its mixture.wav) of the synthetic test set. */
export async function loadSong(inputPath: string | undefined): Promise<Song> {
  const path = inputPath ?? (await findFirstWav(DEFAULT_SONG_DIR));
  if (path === null) {
    throw new Error(
      `no input song: pass --input song.wav, or generate the synthetic test set first (npm run data:synth, which writes ${DEFAULT_SONG_DIR}/…/mixture.wav)`,
    );
  }
  const wav = await readWav(path);
  if (wav.channels.length < 1 || wav.channels.length > 2) {
    throw new Error(`${path}: ${wav.channels.length} channels; the protocol takes 1 or 2`);
  }
  return { name: path, sampleRateHz: wav.sampleRateHz, channels: wav.channels };
}
