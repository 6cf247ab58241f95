/**
 * `npm run bench:webrtc`: the WebRTC round trip and track skew a real browser experiences. An in-process server
 * (shipped models/lstm, or a random one if absent) and headless Chromium whose fake microphone plays a noise-like
 * test song; per mode the page records microphone and outputs in one AudioContext (bench/webrtc-page.ts) and the
 * lags are found window by window by cross-correlation (bench/webrtc-lag.ts):
 *
 * - `karaoke` (vocalGain 1: the one track is accompaniment + vocals = the input, delayed): the round trip, mic → page;
 * - `stems` (vocals and accompaniment tracks): each track's round trip, and their skew (vocals lag − accompaniment lag).
 *
 * Writes results/bench-webrtc.json (figures, load average, CPU); prints a summary. No assertions: a benchmark.
 *   npm run bench:webrtc -- [--seconds 20] [--modes karaoke,stems]
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeWav } from '../server/dsp/wav.ts';
import { launchChromium, startWebrtcServer, testModel } from '../test/helpers/browser.ts';
import { lagWindows, spread, type LagWindow } from './webrtc-lag.ts';
import { runPage, type PageRun, type PageRunOptions } from './webrtc-page.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, modes: { type: 'string', default: 'karaoke,stems' } } });
const recordSec = Number(values.seconds);
const modes = values.modes.split(',').map((m): PageRunOptions['mode'] => {
  if (m !== 'karaoke' && m !== 'stems') throw new Error(`--modes: "${m}" is not karaoke or stems`);
  return m;
});
const RATE_HZ = 48000;
/**
 * Windows with a weaker peak carry no lag: start-up silence, a lag that changed inside the window, the fake capture
 * restarting. The karaoke track at vocalGain 1 is the input itself (≥ 0.9 when steady); a separated stem is only part
 * of it, so its peak is lower (0.5–0.95 measured) and still in the right place.
 */
const MIN_CORR: Record<string, number> = { karaoke: 0.8, vocals: 0.5, accompaniment: 0.5 };
/** The first seconds are start-up (ICE, jitter buffers filling): left out of the figures. */
const WARMUP_SEC = 3;

/** 12 s loop: low-passed noise under a 125 ms random envelope, with a vibrato "voice" in every other 2 s. */
function benchSong(): Float32Array[] {
  const n = 12 * RATE_HZ;
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  let seed = 12345;
  const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  let lp1 = 0;
  let lp2 = 0;
  let gain = 0.5;
  for (let i = 0; i < n; i++) {
    if (i % 6000 === 0) gain = 0.3 + 0.35 * (rand() + 1);
    lp1 += 0.25 * (rand() - lp1);
    lp2 += 0.25 * (lp1 - lp2);
    const s = i / RATE_HZ;
    const f0 = 300 * (1 + 0.02 * Math.sin(2 * Math.PI * 5.5 * s));
    let voice = 0;
    if (Math.floor(s / 2) % 2 === 1) for (let h = 1; h <= 5; h++) voice += (0.08 / h) * Math.sin(2 * Math.PI * f0 * h * s);
    left[i] = 0.6 * gain * lp2 + voice;
    right[i] = 0.6 * gain * lp2 + voice;
  }
  return [left, right];
}

function decode(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const s16 = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return Float32Array.from(s16, (x) => x / 32768);
}

function valid(kind: string, ws: LagWindow[]): LagWindow[] {
  return ws.filter((w) => w.atSec >= WARMUP_SEC && w.corr >= (MIN_CORR[kind] ?? 0.5));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'livestem-bench-webrtc-'));
  const wav = join(dir, 'song.wav');
  await writeWav(wav, benchSong(), RATE_HZ, 's16');
  const model = await testModel();
  const { server } = await startWebrtcServer(model);
  const browser = await launchChromium(wav);
  const loadBefore = loadavg();
  const results: Record<string, unknown> = {};
  try {
    for (const mode of modes) {
      const page = await browser.newPage();
      // tsx keeps function names with a `__name` helper that the page does not have.
      await page.addInitScript('globalThis.__name = (f) => f;');
      await page.goto(`${server.httpUrl}/`);
      const run = (await page.evaluate(runPage, { mode, vocalGain: 1, recordMs: recordSec * 1000 })) as PageRun;
      await page.close();
      results[mode] = analyse(run);
      const { windows: _windows, ...summary } = results[mode] as Record<string, unknown>;
      process.stdout.write(`${mode}: ${JSON.stringify(summary)}\n`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const out = {
    bench: 'webrtc',
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadAverage1mBeforeAfter: [loadBefore[0], loadavg()[0]].map((x) => Math.round((x ?? 0) * 100) / 100),
    model: model.trained ? 'models/lstm (trained)' : 'random lstm (models/lstm absent)',
    recordSec,
    warmupSec: WARMUP_SEC,
    minCorr: MIN_CORR,
    results,
  };
  await mkdir('results', { recursive: true });
  await writeFile('results/bench-webrtc.json', JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`wrote results/bench-webrtc.json (load average ${out.loadAverage1mBeforeAfter.join(' → ')})\n`);
}

function analyse(run: PageRun): Record<string, unknown> {
  const mic = decode(run.mic);
  const opts = { sampleRateHz: run.sampleRateHz, windowSamples: run.sampleRateHz / 2, stepSamples: run.sampleRateHz / 4, maxLagSamples: run.sampleRateHz / 2 };
  const lags = Object.fromEntries(Object.entries(run.outputs).map(([kind, b64]) => [kind, lagWindows(mic, decode(b64), opts)]));
  const rtc = run.serverStats?.rtc;
  const figures: Record<string, unknown> = {
    roundTripMs: Object.fromEntries(Object.entries(lags).map(([kind, ws]) => [kind, spread(valid(kind, ws).map((w) => w.lagMs))])),
    windowsKept: Object.fromEntries(Object.entries(lags).map(([kind, ws]) => [kind, `${valid(kind, ws).length}/${ws.length}`])),
    /** Every window as [start s, lag ms, correlation], to see how the lag moves over the run. */
    windows: Object.fromEntries(Object.entries(lags).map(([kind, ws]) => [kind, ws.map((w) => [w.atSec, Math.round(w.lagMs * 10) / 10, Math.round(w.corr * 100) / 100])])),
    browser: { inbound: run.inbound, outputMids: run.outputMids, iceRttMs: run.rttMs, playoutMs: run.playoutMs },
    server: {
      algorithmicMs: run.algorithmicMs,
      processingLatencyMs: run.serverStats?.processingLatencyMs,
      lateHops: run.serverStats?.lateFrames,
      pacer: rtc && { waitMs: rtc.pacerWaitMs, queuedMs: rtc.pacerQueuedMs, lateFrames: rtc.lateFrames, outputSlots: rtc.outputSlots, underrunFrames: rtc.underrunFrames, trimmedFrames: rtc.trimmedFrames, droppedFrames: rtc.droppedFrames },
      input: rtc && { packetsReceived: rtc.packetsReceived, packetsConcealed: rtc.packetsConcealed, packetsLate: rtc.packetsLate, packetsReordered: rtc.packetsReordered },
    },
  };
  const vocals = lags['vocals'];
  const acc = lags['accompaniment'];
  if (vocals !== undefined && acc !== undefined) {
    const skew: number[] = [];
    vocals.forEach((v, i) => {
      const a = acc[i];
      if (a !== undefined && v.atSec >= WARMUP_SEC && v.corr >= MIN_CORR['vocals']! && a.corr >= MIN_CORR['accompaniment']!) skew.push(Math.abs(v.lagMs - a.lagMs));
    });
    figures['trackSkewAbsMs'] = spread(skew);
  }
  return figures;
}

await main();
