/**
 * Test helpers for the browser-facing parts: a livestem server with the WebRTC gateway and the demo/SDK assets
 * mounted, the model to serve (the trained `models/lstm` when present, else an untrained random one), and headless
 * Debian Chromium with the flags loopback WebRTC needs (see /work/shared/environment-notes.md).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { validateConfig, type ConfigInput } from '../../server/config.ts';
import { demoPlugin } from '../../server/demo/demo-plugin.ts';
import { startServer, type LivestemServer } from '../../server/server.ts';
import { createLogger } from '../../server/log.ts';
import { webrtcPlugin, type WebRtcPluginOptions } from '../../server/transport/webrtc/webrtc-plugin.ts';
import type { WebRtcGateway } from '../../server/transport/webrtc/webrtc-gateway.ts';
import { exportRandomModel } from '../../training/export/random-model.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const REPO = new URL('../../', import.meta.url).pathname;

export interface TestModel {
  modelsDir: string;
  name: string;
  /** True only for a trained shipped model: separation-quality assertions need it. */
  trained: boolean;
}

/** The shipped `models/lstm` when it exists and is not marked untrained, else a random small model in a temp dir. */
export async function testModel(): Promise<TestModel> {
  const shipped = join(REPO, 'models', 'lstm', 'manifest.json');
  if (existsSync(shipped)) {
    const manifest = JSON.parse(await readFile(shipped, 'utf8')) as { training?: { untrained?: boolean } };
    if (manifest.training?.untrained !== true) return { modelsDir: join(REPO, 'models'), name: 'lstm', trained: true };
  }
  const dir = await mkdtemp(join(tmpdir(), 'livestem-model-'));
  await exportRandomModel({ arch: 'lstm', name: 'lstm', seed: 3 }, join(dir, 'lstm'));
  return { modelsDir: dir, name: 'lstm', trained: false };
}

export interface WebrtcTestServer {
  server: LivestemServer;
  gateway: WebRtcGateway;
}

export async function startWebrtcServer(
  model: TestModel,
  config: ConfigInput = {},
  webrtc: WebRtcPluginOptions = {},
): Promise<WebrtcTestServer> {
  let gateway: WebRtcGateway | undefined;
  const server = await startServer(
    // admission by session count only: admission by measured headroom is tested elsewhere; on a busy shared machine
    // it would refuse these tests.
    validateConfig({ host: '127.0.0.1', port: 0, modelsDir: model.modelsDir, defaultModel: model.name, logLevel: 'warn', admission: 'sessions', ...config }),
    {
      log: createLogger({ level: 'warn', write: (line) => process.stderr.write(line + '\n') }),
      plugins: [
        webrtcPlugin({
          ice: { iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false },
          ...webrtc,
          onGateway: (g) => {
            gateway = g;
          },
        }),
        demoPlugin(),
      ],
    },
  );
  if (gateway === undefined) throw new Error('webrtc plugin did not mount');
  return { server, gateway };
}

/** Headless Chromium; `fakeAudioWav` becomes the microphone (looped). */
export function launchChromium(fakeAudioWav?: string): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
  ];
  if (fakeAudioWav !== undefined) args.push(`--use-file-for-fake-audio-capture=${fakeAudioWav}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}

/** Scrapes one sample value from the Prometheus text (first line matching name and label text). */
export async function metricValue(server: LivestemServer, name: string, labels = ''): Promise<number> {
  const { body } = await server.metrics.render();
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (labels === '' ? rest.startsWith(' ') : rest.startsWith(`{${labels}}`)) return Number(rest.split(' ').at(-1));
  }
  return 0;
}

// ---- aligning what a page recorded with the song it captured (pure) ----

/** What the browser test's page records: analyser RMS every ~20 ms and the events with their arrival times. */
export interface PageRecording {
  t: number[];
  input: number[];
  vocals: number[];
  accompaniment: number[];
  vad: { at: number; sampleOffset: number; hopSamples: number; probs: number[]; transitions: { active: boolean; sampleOffset: number }[] }[];
  stats: number;
  /** Page time when the peer connected (≈ when the session's input sample 0 was captured). */
  connectedAt: number;
  packetsReceived: Record<string, number>;
  /** Largest mean jitter-buffer delay over the inbound tracks, and the ICE round trip, from getStats. */
  jitterBufferMs: number;
  rttMs: number;
  /** The last stats event the server sent on the DataChannel. */
  serverStats: unknown;
  /** `input-dropped` messages (the server fell behind and dropped its oldest input), tapped from the DataChannel. */
  drops?: { at: number; samples: number; inputSampleOffset: number; totalSamples: number }[];
}

/**
 * Where the recorded microphone input sits in the (looping) song. The fake capture device loops the song file, but
 * not always seamlessly: Chromium may open it more than once while getUserMedia settles (the song restarts), and on a
 * busy machine the capture thread can stall (the analyser reads silence, then the song resumes later than the page
 * clock). So the alignment is piecewise: per 20 ms block of the recording, `phase` is what to add to the block index
 * to get the song block (mod the song length), constant except at a few jumps.
 */
export interface InputAlignment {
  phase: Int32Array;
  /** Pearson correlation of the recorded log envelope with the song's at the aligned positions, over the blocks with signal. */
  corr: number;
  /** Fraction of the recording's blocks in which the analyser saw any signal (else: capture not started yet, or stalled). */
  coverage: number;
  /** Song-position jumps of more than one block (capture restarts / stalls). */
  jumps: number;
  /** The constant-phase stretches: where each starts in the recording and where it sits in the song. */
  segments: { fromSec: number; phaseSec: number }[];
}

/**
 * When the recorded input counts as the song. The correlation bar is higher than the 0.5 the single-phase alignment
 * used because the alignment may now jump: a different song, the same song played backwards, or steady noise
 * reach at most ~0.55 against a recording (the test checks such controls on every run), the song itself ≥ 0.9.
 */
export const INPUT_MATCH = { minCorr: 0.7, minCoverage: 0.5, maxJumps: 3 } as const;

export function inputMatches(a: InputAlignment): boolean {
  return a.corr >= INPUT_MATCH.minCorr && a.coverage >= INPUT_MATCH.minCoverage && a.jumps <= INPUT_MATCH.maxJumps;
}

export interface SectionLevels {
  input: InputAlignment;
  outputLagMs: number;
  vocals: { sung: number; instrumental: number };
  accompaniment: { sung: number; instrumental: number };
  vadAgreement: number;
  vadHops: number;
}

const BLOCK_MS = 20;
const MARGIN_BLOCKS = 15; // ignore ±300 ms around section boundaries: alignment is only that good
/**
 * Analyser RMS below this is digital silence, i.e. no signal: the capture had not started yet, or stalled. The songs
 * never get that quiet (their quietest 20 ms blocks are ~1e-3), and on the log scale one such block is a ~30 σ outlier
 * that alone can pull a correlation from 0.95 to 0.4: such blocks are left out of every correlation.
 */
const NO_SIGNAL_LOG = Math.log10(1e-5);
/**
 * What a jump of the song position must gain, in blocks of perfectly matching standardised envelopes (a block of the
 * true alignment adds ~0.9, a wrong one ~0): ~2 s of clear evidence. Keeps a wrong song from being stitched together
 * from short well-fitting pieces. A ±1 block step (clock drift) costs a quarter of that.
 */
const JUMP_COST = 100;
const DRIFT_COST = 25;

function pearson(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i]!), (mb += b[i]!);
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Resamples the page's jittery ~20 ms readings onto an exact 20 ms grid starting at rec.t[0] (log level). */
function grid(rec: PageRecording, values: number[]): number[] {
  const t0 = rec.t[0] ?? 0;
  const n = Math.floor(((rec.t.at(-1) ?? t0) - t0) / BLOCK_MS) + 1;
  const out = new Array<number>(n).fill(NaN);
  rec.t.forEach((ti, i) => {
    out[Math.round((ti - t0) / BLOCK_MS)] = Math.log10(values[i]! + 1e-6);
  });
  for (let i = 0; i < n; i++) if (Number.isNaN(out[i])) out[i] = i > 0 ? out[i - 1]! : Math.log10(1e-6);
  return out;
}

/** Log10 RMS of the mono mix per 20 ms block (48 kHz), the song-side twin of the page's input envelope. */
export function levelEnvelope(channels: Float32Array[], rateHz = 48000): number[] {
  const block = (rateHz * BLOCK_MS) / 1000;
  const n = Math.floor(channels[0]!.length / block);
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = b * block; i < (b + 1) * block; i++) {
      let x = 0;
      for (const ch of channels) x += ch[i]! / channels.length;
      s += x * x;
    }
    out.push(Math.log10(Math.sqrt(s / block) + 1e-6));
  }
  return out;
}

function standardise(xs: number[], use: (i: number) => boolean): number[] {
  let n = 0;
  let m = 0;
  xs.forEach((x, i) => use(i) && (n++, (m += x)));
  m /= Math.max(1, n);
  let v = 0;
  xs.forEach((x, i) => use(i) && (v += (x - m) ** 2));
  const sd = Math.sqrt(v / Math.max(1, n)) || 1;
  return xs.map((x, i) => (use(i) ? (x - m) / sd : 0));
}

/**
 * Aligns the recorded input envelope with the looping song (Viterbi over song positions): per block the song phase
 * that best explains the recording, where staying costs nothing, a ±1 block step DRIFT_COST and any jump JUMP_COST.
 * Blocks without signal carry no evidence.
 */
export function alignInput(rec: PageRecording, songEnvelope: number[]): InputAlignment {
  const input = grid(rec, rec.input);
  const n = input.length;
  const L = songEnvelope.length;
  const valid = input.map((v) => v > NO_SIGNAL_LOG);
  const zi = standardise(input, (g) => valid[g]!);
  const zs = standardise(songEnvelope, () => true);
  let prev = new Float64Array(L);
  let cur = new Float64Array(L);
  const from = new Int32Array(n * L);
  for (let g = 0; g < n; g++) {
    let best = 0;
    for (let s = 1; s < L; s++) if (prev[s]! > prev[best]!) best = s;
    for (let s = 0; s < L; s++) {
      let v = prev[s]!;
      let f = s;
      if (g > 0) {
        const up = prev[(s + 1) % L]! - DRIFT_COST;
        const down = prev[(s + L - 1) % L]! - DRIFT_COST;
        const jump = prev[best]! - JUMP_COST;
        if (up > v) (v = up), (f = (s + 1) % L);
        if (down > v) (v = down), (f = (s + L - 1) % L);
        if (jump > v) (v = jump), (f = best);
      }
      cur[s] = v + zi[g]! * zs[(g + s) % L]!;
      from[g * L + s] = f;
    }
    [prev, cur] = [cur, prev];
  }
  const phase = new Int32Array(n);
  let s = 0;
  for (let k = 1; k < L; k++) if (prev[k]! > prev[s]!) s = k;
  for (let g = n - 1; g >= 0; g--) {
    phase[g] = s;
    s = from[g * L + s]!;
  }
  let jumps = 0;
  const segments: InputAlignment['segments'] = [];
  for (let g = 0; g < n; g++) {
    const d = g === 0 ? Infinity : Math.min((phase[g]! - phase[g - 1]! + L) % L, (phase[g - 1]! - phase[g]! + L) % L);
    if (d > 1) {
      if (g > 0) jumps++;
      segments.push({ fromSec: (g * BLOCK_MS) / 1000, phaseSec: (phase[g]! * BLOCK_MS) / 1000 });
    }
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let g = 0; g < n; g++) if (valid[g]) a.push(input[g]!), b.push(songEnvelope[(g + phase[g]!) % L]!);
  return { phase, corr: pearson(a, b), coverage: n > 0 ? a.length / n : 0, jumps, segments };
}

/**
 * Aligns the input with the song (alignInput), then the output lag (accompaniment envelope against the input's,
 * over blocks where both carry signal), and averages output levels over sung / instrumental blocks away from section
 * boundaries; VAD hops are placed by their session sample offsets.
 */
export function alignSections(rec: PageRecording, labels10ms: Uint8Array, songEnvelope: number[]): SectionLevels {
  const songBlocks = Math.floor(labels10ms.length / 2);
  const label = (j: number): number => labels10ms[2 * (((j % songBlocks) + songBlocks) % songBlocks)]!;
  const input = grid(rec, rec.input);
  const vocals = grid(rec, rec.vocals);
  const acc = grid(rec, rec.accompaniment);
  const aligned = alignInput(rec, songEnvelope);
  /** The song block captured at recording block g (g clamped to the recording). */
  const songBlock = (g: number): number => {
    const k = Math.min(Math.max(g, 0), aligned.phase.length - 1);
    return g + aligned.phase[k]!;
  };

  // Output lag: the accompaniment follows the input's envelope.
  let lag = 0;
  let lagCorr = -1;
  for (let l = 0; l <= 100; l++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let g = l; g < acc.length; g++) if (acc[g]! > NO_SIGNAL_LOG && input[g - l]! > NO_SIGNAL_LOG) a.push(input[g - l]!), b.push(acc[g]!);
    const c = pearson(a, b);
    if (c > lagCorr) (lagCorr = c), (lag = l);
  }
  const stableLabel = (j: number): number | undefined => {
    const v = label(j);
    for (let d = -MARGIN_BLOCKS; d <= MARGIN_BLOCKS; d++) if (label(j + d) !== v) return undefined;
    return v;
  };
  const sums = { vocals: [0, 0], acc: [0, 0], n: [0, 0] };
  // Skip the first second of output: start-up (jitter buffer filling, model state warming).
  for (let g = lag + 50; g < vocals.length; g++) {
    const l = stableLabel(songBlock(g - lag));
    if (l === undefined) continue;
    sums.vocals[l]! += 10 ** vocals[g]!;
    sums.acc[l]! += 10 ** acc[g]!;
    sums.n[l]!++;
  }
  // VAD: offsets count processed input; input the server dropped (engine behind) is not counted, so hops after a drop
  // were captured that much later. Session input offset i was captured at connectedAt + i/48 kHz (page time) → grid
  // block → song block.
  const drops = (rec.drops ?? []).map((d) => ({ at: d.inputSampleOffset - (d.totalSamples - d.samples), samples: d.samples }));
  const inputOffset = (processed: number): number => drops.reduce((o, d) => (processed >= d.at ? o + d.samples : o), processed);
  let agree = 0;
  let hops = 0;
  let state = false;
  const t0 = rec.t[0] ?? 0;
  for (const v of rec.vad) {
    v.probs.forEach((_, i) => {
      const offset = v.sampleOffset + i * v.hopSamples;
      for (const tr of v.transitions) if (tr.sampleOffset <= offset) state = tr.active;
      const g = Math.round((rec.connectedAt + (inputOffset(offset) / 48000) * 1000 - t0) / BLOCK_MS);
      const l = stableLabel(songBlock(g));
      if (l === undefined || g < 50) return;
      hops++;
      if ((l === 1) === state) agree++;
    });
  }
  const mean = (s: number[], k: number): number => (sums.n[k]! > 0 ? s[k]! / sums.n[k]! : 0);
  return {
    input: aligned,
    outputLagMs: lag * BLOCK_MS,
    vocals: { sung: mean(sums.vocals, 1), instrumental: mean(sums.vocals, 0) },
    accompaniment: { sung: mean(sums.acc, 1), instrumental: mean(sums.acc, 0) },
    vadAgreement: hops > 0 ? agree / hops : 0,
    vadHops: hops,
  };
}
