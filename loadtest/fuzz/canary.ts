/**
 * The canary: one well-behaved session streaming a song in real time, in 10 ms frames, f32le in and out at the
 * model's rate, while the fuzzer attacks the same server. It must get every sample back: per kind, output length ==
 * input length, and vocals + accompaniment == input to float rounding (the masks sum to one). Checked as frames
 * arrive, so memory stays flat however long the run is. It also records how late output came (a stalled event loop
 * shows up here first).
 */
import WebSocket from 'ws';
import { decodeAudioFrame, encodePcm } from '../../client-sdk/src/protocol/index.ts';
import type { Song } from '../song.ts';
import { SongCursor } from '../song.ts';

/**
 * A 10 s stereo "song" made in code (chords, a vibrato melody with harmonics standing in for a voice, noise-burst
 * drums), so the canary needs no files; `--song FILE.wav` streams a real one instead.
 */
export function synthSong(rateHz: number, seconds = 10, seed = 1): Song {
  const n = Math.round(rateHz * seconds);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  let noise = seed >>> 0 || 1;
  const white = (): number => {
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    return ((noise >>> 0) / 4294967296) * 2 - 1;
  };
  const chords = [
    [220, 277.2, 329.6],
    [196, 246.9, 293.7],
    [174.6, 220, 261.6],
    [196, 246.9, 329.6],
  ];
  const melody = [440, 494, 523, 587, 523, 494, 440, 392];
  for (let i = 0; i < n; i++) {
    const t = i / rateHz;
    const chord = chords[Math.floor(t / 2) % chords.length]!;
    let pad = 0;
    for (const f of chord) pad += 0.06 * Math.sin(2 * Math.PI * f * t);
    const f0 = melody[Math.floor(t * 2) % melody.length]! * (1 + 0.01 * Math.sin(2 * Math.PI * 5.5 * t));
    let voice = 0;
    for (let h = 1; h <= 5; h++) voice += (0.12 / h) * Math.sin(2 * Math.PI * f0 * h * t);
    voice *= (t * 2) % 1 < 0.8 ? 1 : 0.2;
    const beat = t % 0.5;
    const drum = beat < 0.05 ? 0.3 * white() * (1 - beat / 0.05) : 0;
    left[i] = pad + voice + drum;
    right[i] = 0.8 * pad + voice - 0.5 * drum;
  }
  return { name: `synth ${seconds} s @ ${rateHz} Hz`, sampleRateHz: rateHz, channels: [left, right] };
}

/** Planar samples from absolute offset `base` on, grown at the end and trimmed at the front. */
class PlanarFifo {
  private data: Float32Array[];
  base = 0;
  length = 0;

  constructor(channels: number) {
    this.data = Array.from({ length: channels }, () => new Float32Array(1 << 15));
  }

  get end(): number {
    return this.base + this.length;
  }

  append(samples: Float32Array[]): void {
    const n = samples[0]?.length ?? 0;
    if (this.length + n > this.data[0]!.length) {
      const size = Math.max(this.data[0]!.length * 2, this.length + n);
      this.data = this.data.map((ch) => {
        const grown = new Float32Array(size);
        grown.set(ch.subarray(0, this.length));
        return grown;
      });
    }
    samples.forEach((ch, c) => this.data[c]!.set(ch, this.length));
    this.length += n;
  }

  at(channel: number, absolute: number): number {
    return this.data[channel]![absolute - this.base]!;
  }

  /** Forgets everything before `absolute`. */
  dropBefore(absolute: number): void {
    const k = absolute - this.base;
    if (k <= 0) return;
    for (const ch of this.data) ch.copyWithin(0, k, this.length);
    this.base = absolute;
    this.length -= k;
  }
}

export interface CanaryResult {
  label: string;
  ok: boolean;
  problems: string[];
  sentSamples: number;
  /** Per kind, contiguous output received. */
  receivedSamples: Record<string, number>;
  maxMixtureError: number;
  done: Record<string, unknown> | undefined;
  closeCode: number | undefined;
  sawDraining: boolean;
  lagMs: { p50: number; p99: number; max: number };
  durationS: number;
}

export interface CanaryOptions {
  label: string;
  url: string;
  headers?: Record<string, string>;
  song: Song;
  frameMs?: number;
  /** After `draining`: 'polite' sends end at once; 'stubborn' streams on until the server closes the session. */
  onDraining?: 'polite' | 'stubborn';
  /** Start offset in the song (canaries are not in lockstep). */
  startSample?: number;
}

/** f32 in and out: the only error is float rounding in the mask multiply and the two resampler-free paths. */
const F32_TOLERANCE = 1e-5;

export class Canary {
  private readonly ws: WebSocket;
  private readonly input: PlanarFifo;
  private readonly out = new Map<string, PlanarFifo>();
  private readonly cursor: SongCursor;
  private readonly frameSamples: number;
  private readonly problems: string[] = [];
  private readonly sendTimesMs: number[] = [];
  private readonly lags: number[] = [];
  private kinds: string[] = [];
  private latencySamples = 0;
  private verified = 0;
  private maxError = 0;
  private sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private ended = false;
  private lastSequence: number | undefined;
  private done: Record<string, unknown> | undefined;
  private closeCode: number | undefined;
  private sawDraining = false;
  private readonly closed: Promise<void>;
  private readyResolve!: () => void;
  private readonly ready: Promise<void>;
  private readonly startedAtMs = Date.now();

  constructor(private readonly opts: CanaryOptions) {
    const channels = opts.song.channels.length;
    this.input = new PlanarFifo(channels);
    this.cursor = new SongCursor(opts.song, opts.startSample ?? 0);
    this.frameSamples = Math.round((opts.song.sampleRateHz * (opts.frameMs ?? 10)) / 1000);
    this.ws = new WebSocket(opts.url, { headers: opts.headers ?? {}, perMessageDeflate: false });
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        if (code !== 1000 && code !== 1001) this.problem(`closed ${code} ${reason.toString().slice(0, 80)} after ${this.sent} samples sent, ${this.verified} verified`);
        this.stopStreaming();
        this.readyResolve();
        resolve();
      });
    });
    this.ws.on('error', (err) => this.problem(`socket error: ${err.message}`));
    this.ws.on('open', () =>
      this.ws.send(JSON.stringify({ type: 'start', sampleRateHz: opts.song.sampleRateHz, channels, format: 'f32le', outputFormat: 'f32le', streamId: opts.label })),
    );
    this.ws.on('message', (data, isBinary) => (isBinary ? this.onFrame(data as Buffer) : this.onText(String(data))));
  }

  /** Resolves once streaming started (or the connection failed: see the result). */
  async started(): Promise<void> {
    await this.ready;
  }

  private problem(text: string): void {
    if (this.problems.length < 20) this.problems.push(text);
  }

  private onText(text: string): void {
    const msg = JSON.parse(text) as Record<string, unknown>;
    if (msg['type'] === 'ready') {
      const output = msg['output'] as { outputs: string[] };
      this.kinds = output.outputs;
      for (const k of this.kinds) this.out.set(k, new PlanarFifo(this.opts.song.channels.length));
      this.latencySamples = (msg['latency'] as { samples: number }).samples;
      this.t0 = performance.now();
      this.timer = setInterval(() => this.pump(), 5);
      this.readyResolve();
    } else if (msg['type'] === 'draining') {
      this.sawDraining = true;
      if (this.opts.onDraining !== 'stubborn') this.end();
    } else if (msg['type'] === 'done') {
      this.done = msg;
    } else if (msg['type'] === 'error') {
      this.problem(`error ${String(msg['code'])}: ${String(msg['message'])}`);
    }
  }

  /** Sends every 10 ms frame that is due by now (catching up after a late timer, still in 10 ms frames). */
  private pump(): void {
    if (this.ended || this.ws.readyState !== WebSocket.OPEN) return;
    const due = Math.floor(((performance.now() - this.t0) / 1000) * this.opts.song.sampleRateHz);
    while (this.sent + this.frameSamples <= due) {
      const planar = this.cursor.next(this.frameSamples);
      this.input.append(planar);
      this.ws.send(encodePcm(planar, 'f32le'));
      this.sendTimesMs.push(performance.now());
      this.sent += this.frameSamples;
    }
  }

  private onFrame(bytes: Buffer): void {
    const frame = decodeAudioFrame(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (this.lastSequence !== undefined && frame.sequence !== this.lastSequence + 1) this.problem(`sequence ${frame.sequence} after ${this.lastSequence}`);
    this.lastSequence = frame.sequence;
    const fifo = this.out.get(frame.kind);
    if (!fifo) return this.problem(`unrequested kind ${frame.kind}`);
    if (frame.sampleOffset !== fifo.end) this.problem(`${frame.kind}: frame at ${frame.sampleOffset}, expected ${fifo.end}`);
    fifo.append(frame.samples);
    const newest = frame.sampleOffset + frame.sampleCount - 1 + this.latencySamples;
    const sentAt = this.sendTimesMs[Math.floor(newest / this.frameSamples)];
    if (sentAt !== undefined) this.lags.push(performance.now() - sentAt);
    this.verify();
  }

  /** Compares vocals + accompaniment with the input over everything both kinds have covered. */
  private verify(): void {
    const vocals = this.out.get('vocals');
    const accompaniment = this.out.get('accompaniment');
    if (!vocals || !accompaniment) return;
    const upTo = Math.min(vocals.end, accompaniment.end, this.input.end);
    for (let c = 0; c < this.opts.song.channels.length; c++) {
      for (let i = this.verified; i < upTo; i++) {
        const e = Math.abs(vocals.at(c, i) + accompaniment.at(c, i) - this.input.at(c, i));
        if (!(e <= this.maxError)) this.maxError = Number.isNaN(e) ? Infinity : e;
      }
    }
    this.verified = Math.max(this.verified, upTo);
    for (const f of [vocals, accompaniment, this.input]) if (upTo - f.base > 1 << 16) f.dropBefore(upTo);
  }

  private stopStreaming(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops streaming and sends `end` (idempotent). */
  end(): void {
    if (this.ended) return;
    this.pump();
    this.ended = true;
    this.stopStreaming();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'end' }));
  }

  /** Ends (unless the server is ending it), waits for done + close, and judges. */
  async finish(options: { timeoutMs?: number; sendEnd?: boolean } = {}): Promise<CanaryResult> {
    if (options.sendEnd !== false) this.end();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), options.timeoutMs ?? 30_000).unref());
    if ((await Promise.race([this.closed, timeout])) === 'timeout') {
      this.problem('no close within the timeout after end');
      this.ws.terminate();
    }
    return this.result();
  }

  result(): CanaryResult {
    const problems = [...this.problems];
    const done = this.done;
    // After a shutdown the server may have taken less than was sent (it stops reading): judge against what it took.
    const taken = typeof done?.['inputSamples'] === 'number' ? done['inputSamples'] : this.sent;
    const shutdown = done?.['reason'] === 'shutdown';
    if (!done) problems.push(`no done (close ${this.closeCode ?? 'none'}): the session was lost`);
    else {
      if (!shutdown && taken !== this.sent) problems.push(`done.inputSamples ${taken}, sent ${this.sent}`);
      if (done['outputSamples'] !== taken) problems.push(`done.outputSamples ${String(done['outputSamples'])} != input ${taken}`);
      const wantClose = shutdown ? 1001 : 1000;
      if (this.closeCode !== wantClose) problems.push(`closed ${this.closeCode}, expected ${wantClose}`);
    }
    const receivedSamples: Record<string, number> = {};
    for (const [kind, fifo] of this.out) {
      receivedSamples[kind] = fifo.end;
      if (done && fifo.end !== taken) problems.push(`${kind}: received ${fifo.end} samples of ${taken}`);
    }
    if (!(this.maxError <= F32_TOLERANCE)) problems.push(`vocals + accompaniment differs from the input by ${this.maxError}`);
    const sorted = [...this.lags].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    return {
      label: this.opts.label,
      ok: problems.length === 0,
      problems,
      sentSamples: this.sent,
      receivedSamples,
      maxMixtureError: this.maxError,
      done,
      closeCode: this.closeCode,
      sawDraining: this.sawDraining,
      lagMs: { p50: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? 0 },
      durationS: (Date.now() - this.startedAtMs) / 1000,
    };
  }
}
