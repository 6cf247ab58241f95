/**
 * The audio every session streams: a real song, looped, read from a per-session start position so sessions are not
 * in lockstep. Frames are handed out as fresh planar arrays: a client may keep them (WebRTC encodes later).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resampler } from '../server/dsp/resampler.ts';
import { readWav } from '../server/dsp/wav.ts';

export interface Song {
  name: string;
  sampleRateHz: number;
  /** Planar, 1 or 2 channels. */
  channels: Float32Array[];
}

export const DEFAULT_SONG_DIR = 'data/synth/test';

export class SongCursor {
  private position: number;

  constructor(
    private readonly song: Song,
    startSample: number,
  ) {
    const length = song.channels[0]?.length ?? 0;
    if (length === 0) throw new Error(`song ${song.name} has no samples`);
    this.position = ((startSample % length) + length) % length;
  }

  /** The next `samples` sample frames (planar, fresh arrays), wrapping to the song's start. */
  next(samples: number): Float32Array[] {
    const length = this.song.channels[0]!.length;
    const out = this.song.channels.map((src) => {
      const dst = new Float32Array(samples);
      let p = this.position;
      for (let i = 0; i < samples; i++) {
        dst[i] = src[p]!;
        p = p + 1 === length ? 0 : p + 1;
      }
      return dst;
    });
    this.position = (this.position + samples) % length;
    return out;
  }
}

async function findFirstMixture(dir: string): Promise<string | null> {
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
      const found = await findFirstMixture(path);
      if (found) return found;
    }
  }
  return null;
}

/** Generates one 60 s test song with the project's generator into a temp dir; returns its mixture path. */
async function generateSong(log: (line: string) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'livestem-loadtest-song-'));
  log(`no song in ${DEFAULT_SONG_DIR}: generating one (npm run data:synth -- --out ${dir} --train 0 --valid 0 --test 1 --profile v1)…`);
  const args = ['run', 'data:synth', '--', '--out', dir, '--train', '0', '--valid', '0', '--test', '1', '--seconds', '60', '--profile', 'v1'];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('npm', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const path = code === 0 ? await findFirstMixture(dir) : null;
  if (path === null) {
    throw new Error(`could not generate a song (npm run data:synth exited ${code}): pass --input song.wav instead`);
  }
  return path;
}

/** `--input` when given, else the first track (its mixture.wav) of the synthetic test set, else a generated one. */
export async function loadSong(inputPath: string | undefined, log: (line: string) => void = console.error): Promise<Song> {
  const path = inputPath ?? (await findFirstMixture(DEFAULT_SONG_DIR)) ?? (await generateSong(log));
  const wav = await readWav(path);
  if (wav.channels.length < 1 || wav.channels.length > 2) {
    throw new Error(`${path}: ${wav.channels.length} channels; the protocol takes 1 or 2`);
  }
  return { name: path, sampleRateHz: wav.sampleRateHz, channels: wav.channels };
}

/** The song as WebRTC carries it: 48 kHz stereo (the resampler's start-up delay is kept: only the content matters). */
export function toWebRtcSong(song: Song, rateHz = 48000): Song {
  const stereo = song.channels.length === 2 ? song.channels : [song.channels[0]!, song.channels[0]!];
  if (song.sampleRateHz === rateHz) return { ...song, channels: stereo };
  const resampler = new Resampler(song.sampleRateHz, rateHz, 2);
  const body = resampler.push(stereo);
  const tail = resampler.flush();
  const channels = body.map((ch, c) => {
    const out = new Float32Array(ch.length + tail[c]!.length);
    out.set(ch);
    out.set(tail[c]!, ch.length);
    return out;
  });
  return { name: `${song.name} @ ${rateHz} Hz`, sampleRateHz: rateHz, channels };
}
