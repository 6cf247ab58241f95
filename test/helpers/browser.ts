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
    // maxLoad 1: admission by engine load is tested elsewhere; on a busy shared machine it would refuse these tests.
    validateConfig({ host: '127.0.0.1', port: 0, modelsDir: model.modelsDir, defaultModel: model.name, logLevel: 'warn', maxLoad: 1, ...config }),
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
}

export interface SectionLevels {
  phaseSec: number;
  phaseCorr: number;
  outputLagMs: number;
  vocals: { sung: number; instrumental: number };
  accompaniment: { sung: number; instrumental: number };
  vadAgreement: number;
  vadHops: number;
}

const BLOCK_MS = 20;
const MARGIN_BLOCKS = 15; // ignore ±300 ms around section boundaries: alignment is only that good

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

/**
 * Finds where in the (looping) song the recording started (input envelope against the song's), then the output lag
 * (accompaniment envelope against the input's), and averages output levels over sung / instrumental blocks away
 * from section boundaries; VAD hops are placed by their session sample offsets.
 */
export function alignSections(rec: PageRecording, labels10ms: Uint8Array, songEnvelope: number[]): SectionLevels {
  const songBlocks = Math.floor(labels10ms.length / 2);
  const label = (j: number): number => labels10ms[2 * (((j % songBlocks) + songBlocks) % songBlocks)]!;
  const input = grid(rec, rec.input);
  const vocals = grid(rec, rec.vocals);
  const acc = grid(rec, rec.accompaniment);

  // Loop phase: where in the looping song the recording's first block falls.
  const reference = songEnvelope;
  let phase = 0;
  let phaseCorr = -1;
  for (let s = 0; s < songBlocks; s++) {
    const shifted = input.map((_, g) => reference[(g + s) % reference.length]!);
    const c = pearson(input, shifted);
    if (c > phaseCorr) (phaseCorr = c), (phase = s);
  }
  // Output lag: the accompaniment follows the input's envelope.
  let lag = 0;
  let lagCorr = -1;
  for (let l = 0; l <= 100; l++) {
    const c = pearson(input.slice(0, input.length - l), acc.slice(l));
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
    const l = stableLabel(g - lag + phase);
    if (l === undefined) continue;
    sums.vocals[l]! += 10 ** vocals[g]!;
    sums.acc[l]! += 10 ** acc[g]!;
    sums.n[l]!++;
  }
  // VAD: session offset o was captured at connectedAt + o/48 kHz (page time) → grid block → song block.
  let agree = 0;
  let hops = 0;
  let state = false;
  const t0 = rec.t[0] ?? 0;
  for (const v of rec.vad) {
    v.probs.forEach((_, i) => {
      const offset = v.sampleOffset + i * v.hopSamples;
      for (const tr of v.transitions) if (tr.sampleOffset <= offset) state = tr.active;
      const g = Math.round((rec.connectedAt + (offset / 48000) * 1000 - t0) / BLOCK_MS);
      const l = stableLabel(g + phase);
      if (l === undefined || g < 50) return;
      hops++;
      if ((l === 1) === state) agree++;
    });
  }
  const mean = (s: number[], k: number): number => (sums.n[k]! > 0 ? s[k]! / sums.n[k]! : 0);
  return {
    phaseSec: (phase * BLOCK_MS) / 1000,
    phaseCorr,
    outputLagMs: lag * BLOCK_MS,
    vocals: { sung: mean(sums.vocals, 1), instrumental: mean(sums.vocals, 0) },
    accompaniment: { sung: mean(sums.acc, 1), instrumental: mean(sums.acc, 0) },
    vadAgreement: hops > 0 ? agree / hops : 0,
    vadHops: hops,
  };
}
