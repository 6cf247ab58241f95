/**
 * Training excerpts as Open-Unmix draws them, plus what livestem's VAD head needs:
 * - an epoch is `samplesPerTrack` excerpts per track, visited in a shuffled order;
 * - each excerpt is `seqDurSeconds` long; each stem (vocals, drums, bass, other) gets a random gain U[0.25, 1.25]
 *   (Open-Unmix) times U[0.7, 1.0] (seed 003) and a random left/right swap;
 * - with probability `randomMixProbability` every stem comes from a random track at its own random start
 *   (Open-Unmix's random-track mix: more variety, and vocals that are not in time with the music); otherwise all
 *   stems come from the item's track at one start, a real musical mix;
 * - an excerpt whose MIXTURE is silent is redrawn (it teaches nothing); one whose VOCALS are silent is kept, since
 *   instrumental passages are where the VAD and vocal leakage are learnt;
 * - accompaniment = drums + bass + other and mixture = vocals + accompaniment, computed here (stem-mixer.ts), so the
 *   identity is exact in float32; VAD labels come per STFT frame from the augmented vocals (vad-labels.ts).
 * Deterministic: item (epoch, position) depends only on the seed, so the state is {seed, epoch, position} and a
 * resumed run continues with exactly the items it would have seen.
 */
import type { StftConfig } from '../../server/dsp/stft.ts';
import { loadTrackAudio, STEM_NAMES, type MusdbTrack, type StemName } from './musdb.ts';
import { hashSeed, hashString, Rng } from './seeded-random.ts';
import { StemMixer } from './stem-mixer.ts';
import { VAD_AMPLITUDE_THRESHOLD, vocalActivityPerStftFrame } from './vad-labels.ts';

export interface SamplerOptions {
  /** STFT framing of the model: VAD labels are given per frame of it. */
  stft: StftConfig;
  seed: number;
  seqDurSeconds?: number;
  samplesPerTrack?: number;
  randomMixProbability?: number;
  sourceGainRange?: readonly [number, number];
  sourceScaleRange?: readonly [number, number];
  channelSwapProbability?: number;
  /** Mean |mixture| at or below this is "silent" and redrawn. */
  silenceThreshold?: number;
  maxRedraws?: number;
}

export interface TrainingItem {
  /** The audio channels may be views into one shared block (stem-mixer.ts): use the arrays, not their `.buffer`. */
  mixture: Float32Array[];
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  /** One 0/1 label per STFT frame (floor(length / hop) frames). */
  vad: Uint8Array;
  /** What was drawn, for logs and debugging. */
  draw: {
    tracks: Record<StemName, string>;
    startSamples: Record<StemName, number>;
    gains: Record<StemName, number>;
    swapped: Record<StemName, boolean>;
    randomMix: boolean;
    redraws: number;
  };
}

export interface SamplerState {
  version: 1;
  seed: number;
  epoch: number;
  position: number;
  /** Guards against resuming on a different track list. */
  tracksDigest: number;
}

const DEFAULTS = {
  seqDurSeconds: 6,
  samplesPerTrack: 64,
  randomMixProbability: 0.5,
  sourceGainRange: [0.25, 1.25] as const,
  sourceScaleRange: [0.7, 1.0] as const,
  channelSwapProbability: 0.5,
  silenceThreshold: VAD_AMPLITUDE_THRESHOLD,
  maxRedraws: 10,
};

function addSignals(a: Float32Array[], b: Float32Array[]): Float32Array[] {
  return a.map((ch, c) => {
    const other = b[c]!;
    const out = new Float32Array(ch.length);
    for (let i = 0; i < out.length; i++) out[i] = ch[i]! + other[i]!;
    return out;
  });
}

export class TrainingSampler {
  readonly seqSamples: number;
  readonly epochLength: number;
  private readonly tracks: MusdbTrack[];
  private readonly options: Required<Omit<SamplerOptions, 'stft' | 'seed'>>;
  private readonly stft: StftConfig;
  private readonly seed: number;
  private readonly digest: number;
  private epoch = 0;
  private position = 0;
  private order: { epoch: number; indices: Uint32Array } | undefined;
  private readonly mixer = new StemMixer();

  constructor(tracks: MusdbTrack[], options: SamplerOptions) {
    if (tracks.length === 0) throw new RangeError('the sampler needs at least one track');
    this.tracks = tracks;
    this.stft = options.stft;
    this.seed = options.seed;
    this.options = {
      seqDurSeconds: options.seqDurSeconds ?? DEFAULTS.seqDurSeconds,
      samplesPerTrack: options.samplesPerTrack ?? DEFAULTS.samplesPerTrack,
      randomMixProbability: options.randomMixProbability ?? DEFAULTS.randomMixProbability,
      sourceGainRange: options.sourceGainRange ?? DEFAULTS.sourceGainRange,
      sourceScaleRange: options.sourceScaleRange ?? DEFAULTS.sourceScaleRange,
      channelSwapProbability: options.channelSwapProbability ?? DEFAULTS.channelSwapProbability,
      silenceThreshold: options.silenceThreshold ?? DEFAULTS.silenceThreshold,
      maxRedraws: options.maxRedraws ?? DEFAULTS.maxRedraws,
    };
    const rate = tracks[0]!.sampleRateHz;
    this.seqSamples = Math.round(this.options.seqDurSeconds * rate);
    if (this.seqSamples < this.stft.hopSamples) throw new RangeError('seqDurSeconds is shorter than one STFT hop');
    if (!Number.isInteger(this.options.samplesPerTrack) || this.options.samplesPerTrack < 1) {
      throw new RangeError('samplesPerTrack must be a positive integer');
    }
    this.epochLength = tracks.length * this.options.samplesPerTrack;
    this.digest = hashString(tracks.map((t) => `${t.split}/${t.name}:${t.lengthSamples}`).join('\n'));
  }

  getState(): SamplerState {
    return { version: 1, seed: this.seed, epoch: this.epoch, position: this.position, tracksDigest: this.digest };
  }

  setState(state: SamplerState): void {
    if (state.version !== 1) throw new RangeError(`unknown sampler state version ${String(state.version)}`);
    if (state.seed !== this.seed) throw new RangeError(`sampler state has seed ${state.seed}, this sampler ${this.seed}`);
    if (state.tracksDigest !== this.digest) throw new RangeError('sampler state was saved for a different track list');
    if (!(state.position >= 0 && state.position < this.epochLength)) throw new RangeError('sampler state position out of range');
    this.epoch = state.epoch;
    this.position = state.position;
  }

  /** The next training item; epochs roll over after `epochLength` items. */
  async next(): Promise<TrainingItem> {
    const item = await this.item(this.epoch, this.position);
    this.position++;
    if (this.position === this.epochLength) {
      this.position = 0;
      this.epoch++;
    }
    return item;
  }

  /**
   * Hands back an item once nothing reads its audio any more (the batch worker, after computing the batch's spectra):
   * later items reuse its memory. Optional; the item's arrays must not be used afterwards.
   */
  recycle(item: Pick<TrainingItem, 'vocals'>): void {
    this.mixer.recycle(item);
  }

  /** Item `position` of `epoch`, independent of the sampler's current state. */
  async item(epoch: number, position: number): Promise<TrainingItem> {
    const trackIndex = Math.floor(this.epochOrder(epoch)[position]! / this.options.samplesPerTrack);
    const rng = new Rng(hashSeed(this.seed, epoch, position, 1));
    let drawn = await this.draw(rng, trackIndex, 0);
    for (let redraw = 1; redraw <= this.options.maxRedraws && drawn.mixtureMeanAbs <= this.options.silenceThreshold; redraw++) {
      drawn = await this.draw(rng, trackIndex, redraw);
    }
    const { mixture, vocals, accompaniment, draw } = drawn;
    return { mixture, vocals, accompaniment, vad: vocalActivityPerStftFrame(vocals, this.stft), draw };
  }

  private epochOrder(epoch: number): Uint32Array {
    if (this.order?.epoch !== epoch) {
      const indices = Array.from({ length: this.epochLength }, (_, i) => i);
      new Rng(hashSeed(this.seed, epoch, 0xffffffff, 2)).shuffle(indices);
      this.order = { epoch, indices: Uint32Array.from(indices) };
    }
    return this.order.indices;
  }

  private async draw(rng: Rng, trackIndex: number, redraws: number): Promise<Omit<TrainingItem, 'vad'> & { mixtureMeanAbs: number }> {
    const o = this.options;
    const randomMix = rng.chance(o.randomMixProbability);
    const seqSamples = this.seqSamples;
    const startIn = (track: MusdbTrack): number => rng.int(Math.max(1, track.lengthSamples - seqSamples + 1));
    const base = this.tracks[trackIndex]!;
    const sharedStart = startIn(base);
    const plan = STEM_NAMES.map((stem) => {
      const track = randomMix ? this.tracks[rng.int(this.tracks.length)]! : base;
      const start = randomMix ? startIn(track) : sharedStart;
      const gain = rng.uniform(o.sourceGainRange[0], o.sourceGainRange[1]) * rng.uniform(o.sourceScaleRange[0], o.sourceScaleRange[1]);
      const swap = rng.chance(o.channelSwapProbability);
      return { stem, track, start, gain, swap };
    });
    const mixed = await this.mixer.read(plan.map((p) => ({ track: p.track, stem: p.stem, startSample: p.start, gain: p.gain, swap: p.swap })), seqSamples);
    const record = <T>(f: (p: (typeof plan)[number]) => T): Record<StemName, T> =>
      Object.fromEntries(plan.map((p) => [p.stem, f(p)])) as Record<StemName, T>;
    return {
      mixture: mixed.mixture,
      vocals: mixed.vocals,
      accompaniment: mixed.accompaniment,
      mixtureMeanAbs: mixed.mixtureMeanAbs,
      draw: {
        tracks: record((p) => p.track.name),
        startSamples: record((p) => p.start),
        gains: record((p) => p.gain),
        swapped: record((p) => p.swap),
        randomMix,
        redraws,
      },
    };
  }
}

export interface ValidationItem {
  name: string;
  mixture: Float32Array[];
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  vad: Uint8Array;
}

/**
 * Validation on fixed full tracks, in track order, without augmentation (mixture = vocals + accompaniment,
 * computed). `maxSeconds` caps each track from its start, for quick checks.
 */
export async function* validationItems(tracks: MusdbTrack[], stft: StftConfig, maxSeconds?: number): AsyncGenerator<ValidationItem> {
  for (const track of tracks) {
    const length = maxSeconds === undefined ? track.lengthSamples : Math.min(track.lengthSamples, Math.round(maxSeconds * track.sampleRateHz));
    const audio = await loadTrackAudio(track, 0, length);
    yield {
      name: track.name,
      mixture: addSignals(audio.vocals, audio.accompaniment),
      vocals: audio.vocals,
      accompaniment: audio.accompaniment,
      vad: vocalActivityPerStftFrame(audio.vocals, stft),
    };
  }
}
