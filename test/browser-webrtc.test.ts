/**
 * The acceptance test in a real browser: headless Debian Chromium takes a song as its (fake) microphone, the SDK's
 * `separateMediaStream` sends it over WebRTC to an in-process server, and the page measures what comes back with
 * WebAudio analysers (headless Chromium reports audioLevel 0 in getStats). The recorded envelopes are aligned to the
 * song (input envelope ↔ song: where in the looping song each moment of the recording is, tolerating the fake capture
 * restarting or stalling on a busy machine; output ↔ input: network + jitter-buffer lag) to judge sections. The input
 * check runs negative controls on every run (the same recording against other songs and against silence must fail it).
 *
 * Separation-quality checks (vocals much quieter in instrumental sections, accompaniment not; VAD on in sung
 * sections) run only when the trained `models/lstm` exists: an untrained random model cannot pass them, and the
 * test says so in its output.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readWav, writeWav } from '../server/dsp/wav.ts';
import { createOfflineSeparator } from '../server/engine/offline-separator.ts';
import { toWebRtcSong } from '../loadtest/song.ts';
import { lagWindows } from '../bench/webrtc-lag.ts';
import { runPage, type PageRun } from '../bench/webrtc-page.ts';
import {
  alignInput,
  alignSections,
  INPUT_MATCH,
  inputMatches,
  launchChromium,
  levelEnvelope,
  metricValue,
  startWebrtcServer,
  testModel,
  type InputAlignment,
  type PageRecording,
} from './helpers/browser.ts';


const RATE_HZ = 48000;
const REPO = new URL('../', import.meta.url).pathname;
/** Songs of the synthetic test set, when generated (`npm run data:synth`); overridable to exercise generation. */
const SYNTH_TEST_DIR = process.env['LIVESTEM_SYNTH_TEST_DIR'] ?? join(REPO, 'data', 'synth', 'test');
const model = await testModel();

interface Clip {
  wavPath: string;
  /** 1 = sung, per 10 ms of the clip. */
  labels10ms: Uint8Array;
  /** Log level per 20 ms, to find where in the looping song the recording is. */
  envelope: number[];
  source: string;
  /** The clip as written (48 kHz stereo), for the offline reference. */
  channels: Float32Array[];
  /** Envelopes of songs the recording must NOT match (negative controls for the input check). */
  controls: { name: string; envelope: number[] }[];
}

/** The synthetic clip: 12 s of instrumental and sung-like (vibrato voice) sections alternating every `sectionSec`. */
function synthSong(sectionSec: number, beatSec: number): { channels: Float32Array[]; labels10ms: Uint8Array } {
  const n = 12 * RATE_HZ;
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  const labels = new Uint8Array(1200);
  for (let i = 0; i < n; i++) {
    const s = i / RATE_HZ;
    const sung = Math.floor(s / sectionSec) % 2 === 1;
    const beat = s % beatSec;
    const kick = beat < 0.08 ? 0.5 * Math.sin(2 * Math.PI * 60 * beat) * (1 - beat / 0.08) : 0;
    const bass = 0.15 * Math.sin(2 * Math.PI * 98 * s);
    const pad = 0.06 * (Math.sin(2 * Math.PI * 196 * s) + Math.sin(2 * Math.PI * 247 * s));
    const f0 = 330 * (1 + 0.01 * Math.sin(2 * Math.PI * 5.5 * s));
    let voice = 0;
    if (sung) for (let h = 1; h <= 6; h++) voice += (0.12 / h) * Math.sin(2 * Math.PI * f0 * h * s);
    left[i] = kick + bass + pad + voice;
    right[i] = kick + bass - pad + voice;
    if (i % 480 === 0) labels[i / 480] = sung ? 1 : 0;
  }
  return { channels: [left, right], labels10ms: labels };
}

/** Not the song the browser plays: a recording that matches it would mean the input check cannot tell songs apart. */
const DIFFERENT_SONG = { name: 'a different song (2 s sections, 0.4 s beat)', envelope: levelEnvelope(synthSong(2, 0.4).channels) };

async function synthClip(dir: string): Promise<Clip> {
  // 3 s instrumental, 3 s sung, twice. Enough to check plumbing with any model.
  const { channels, labels10ms } = synthSong(3, 0.5);
  const wavPath = join(dir, 'clip.wav');
  await writeWav(wavPath, channels, RATE_HZ, 's16');
  const envelope = levelEnvelope(channels);
  // (This clip is nearly time-symmetric, so "played backwards" is no control for it.)
  return { wavPath, labels10ms, envelope, source: 'synthesised in the test (alternating 3 s sections)', channels, controls: [DIFFERENT_SONG] };
}

async function findTrack(root: string): Promise<string | undefined> {
  if (!existsSync(root)) return undefined;
  for (const name of (await readdir(root)).sort()) {
    const dir = join(root, name);
    if (existsSync(join(dir, 'mixture.wav')) && existsSync(join(dir, 'vocal_activity.json'))) return dir;
  }
  return undefined;
}

async function generateTrack(dir: string): Promise<string> {
  const args = ['run', 'data:synth', '--', '--out', dir, '--test', '1', '--train', '0', '--valid', '0', '--seconds', '12', '--profile', 'v1'];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('npm', args, { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const track = code === 0 ? await findTrack(join(dir, 'test')) ?? (await findTrack(dir)) : undefined;
  if (track === undefined) throw new Error(`npm run data:synth exited ${code} without a track`);
  return track;
}

/** A generated song (data/synth/test when present, else generated now): the most balanced ≤ 16 s window. */
async function songClip(dir: string): Promise<Clip> {
  const track = (await findTrack(SYNTH_TEST_DIR)) ?? (await generateTrack(dir));
  const wav = await readWav(join(track, 'mixture.wav'));
  const va = JSON.parse(await readFile(join(track, 'vocal_activity.json'), 'utf8')) as { labels: number[] };
  const windowFrames = Math.min(1600, va.labels.length);
  let best = 0;
  let bestScore = -1;
  for (let start = 0; start + windowFrames <= va.labels.length; start += 100) {
    const sung = va.labels.slice(start, start + windowFrames).reduce((a, b) => a + b, 0) / windowFrames;
    const score = Math.min(sung, 1 - sung);
    if (score > bestScore) (bestScore = score), (best = start);
  }
  const from = Math.round((best / 100) * wav.sampleRateHz);
  const to = Math.round(((best + windowFrames) / 100) * wav.sampleRateHz);
  const clip = toWebRtcSong({ name: track, sampleRateHz: wav.sampleRateHz, channels: wav.channels.map((c) => c.slice(from, to)) }, RATE_HZ);
  const wavPath = join(dir, 'clip.wav');
  await writeWav(wavPath, clip.channels, RATE_HZ, 's16');
  const envelope = levelEnvelope(clip.channels);
  return {
    wavPath,
    labels10ms: Uint8Array.from(va.labels.slice(best, best + windowFrames)),
    envelope,
    source: `${track} from ${best / 100} s`,
    channels: clip.channels,
    controls: [{ name: 'the song played backwards', envelope: [...envelope].reverse() }, DIFFERENT_SONG],
  };
}

const dir = await mkdtemp(join(tmpdir(), 'livestem-browser-'));
const clip = model.trained ? await songClip(dir) : await synthClip(dir);
const clipSec = clip.labels10ms.length / 100;
t.comment(`model: ${model.trained ? 'trained models/lstm' : 'UNTRAINED random lstm (models/lstm absent)'}; song: ${clip.source}`);

const { server } = await startWebrtcServer(model);
const browser = await launchChromium(clip.wavPath);
t.teardown(async () => {
  await browser.close();
  await server.close();
});

t.test('a song as the microphone, separated over WebRTC through the SDK', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${server.httpUrl}/`);
  const recordMs = Math.round((clipSec + 4) * 1000);
  const rec = (await page.evaluate(async (recordMs: number) => {
    const sdkUrl = '/sdk/livestem.js';
    const sdk = (await import(sdkUrl)) as typeof import('../client-sdk/src/index.ts');
    // The SDK does not surface `input-dropped` (the server, fallen behind, dropped its oldest input): tap the events
    // DataChannel for it, since VAD offsets skip the dropped input and would otherwise be placed wrongly in the song.
    const drops: { at: number; samples: number; inputSampleOffset: number; totalSamples: number }[] = [];
    const createDataChannel = RTCPeerConnection.prototype.createDataChannel;
    RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, ...args: Parameters<RTCPeerConnection['createDataChannel']>) {
      const channel = createDataChannel.apply(this, args);
      channel.addEventListener('message', (ev: MessageEvent) => {
        const m = JSON.parse(String(ev.data)) as { type?: string; samples?: number; inputSampleOffset?: number; totalSamples?: number };
        if (m.type === 'input-dropped') drops.push({ at: performance.now(), samples: m.samples ?? 0, inputSampleOffset: m.inputSampleOffset ?? 0, totalSamples: m.totalSamples ?? 0 });
      });
      return channel;
    };
    const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const sep = await sdk.separateMediaStream(mic, { url: location.origin, outputs: ['vocals', 'accompaniment'] });
    const ctx = new AudioContext({ sampleRate: 48000 });
    const analyser = (stream: MediaStream): AnalyserNode => {
      const a = ctx.createAnalyser();
      a.fftSize = 1024;
      ctx.createMediaStreamSource(stream).connect(a);
      return a;
    };
    // Chromium only pulls remote WebRTC audio into WebAudio while a media element plays it.
    const keep = [sep.vocals!, sep.accompaniment!].map((s) => {
      const el = new Audio();
      el.srcObject = s;
      el.muted = true;
      void el.play();
      return el;
    });
    const nodes = { input: analyser(mic), vocals: analyser(sep.vocals!), accompaniment: analyser(sep.accompaniment!) };
    const out = { t: [] as number[], input: [] as number[], vocals: [] as number[], accompaniment: [] as number[], vad: [] as { at: number; sampleOffset: number; hopSamples: number; probs: number[]; transitions: { active: boolean; sampleOffset: number }[] }[], stats: 0, connectedAt: 0, packetsReceived: {} as Record<string, number>, jitterBufferMs: 0, rttMs: 0, serverStats: undefined as unknown, drops };
    let lastStats: unknown;
    const connected = (): void => {
      if (sep.pc.connectionState === 'connected' && out.connectedAt === 0) out.connectedAt = performance.now();
    };
    connected();
    sep.pc.addEventListener('connectionstatechange', connected);
    sep.events.on('vad', (v) => out.vad.push({ at: performance.now(), sampleOffset: v.sampleOffset, hopSamples: v.hopSamples, probs: v.probs, transitions: v.transitions }));
    sep.events.on('stats', (st) => {
      out.stats++;
      lastStats = st;
    });
    const buf = new Float32Array(1024);
    const level = (a: AnalyserNode): number => {
      a.getFloatTimeDomainData(buf);
      let s = 0;
      for (const x of buf) s += x * x;
      return Math.sqrt(s / buf.length);
    };
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        out.t.push(performance.now());
        out.input.push(level(nodes.input));
        out.vocals.push(level(nodes.vocals));
        out.accompaniment.push(level(nodes.accompaniment));
        if (performance.now() - t0 > recordMs) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    const report = await sep.pc.getStats();
    report.forEach((s: { type: string; mid?: string; packetsReceived?: number; jitterBufferDelay?: number; jitterBufferEmittedCount?: number; state?: string; currentRoundTripTime?: number }) => {
      if (s.type === 'inbound-rtp' && s.mid !== undefined) {
        out.packetsReceived[s.mid] = s.packetsReceived ?? 0;
        if (s.jitterBufferEmittedCount) out.jitterBufferMs = Math.max(out.jitterBufferMs, ((s.jitterBufferDelay ?? 0) / s.jitterBufferEmittedCount) * 1000);
      }
      if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) out.rttMs = s.currentRoundTripTime * 1000;
    });
    out.serverStats = lastStats;
    await sep.close();
    keep.forEach((el) => el.pause());
    await ctx.close();
    return out;
  }, recordMs)) as PageRecording;

  const serverStats = rec.serverStats as { processingLatencyMs: { mean: number; max: number }; lateFrames: number; frames: number; inputDroppedSamples: number; rtc: { packetsConcealed: number; underrunFrames: number; droppedFrames: number; pacerQueuedMs: number } } | undefined;
  t.comment(
    `measured: browser jitter buffer ${rec.jitterBufferMs.toFixed(0)} ms, ICE RTT ${rec.rttMs.toFixed(1)} ms; server hop processing mean ${serverStats?.processingLatencyMs.mean.toFixed(1)} ms ` +
      `(max ${serverStats?.processingLatencyMs.max.toFixed(0)} ms), late frames ${serverStats?.lateFrames}/${serverStats?.frames}; input packets concealed ${serverStats?.rtc.packetsConcealed}, ` +
      `egress underruns ${serverStats?.rtc.underrunFrames}, dropped ${serverStats?.rtc.droppedFrames}, pacer queue ${serverStats?.rtc.pacerQueuedMs} ms; ` +
      `input dropped by the server (engine behind) ${((serverStats?.inputDroppedSamples ?? 0) / RATE_HZ).toFixed(2)} s in ${rec.drops?.length ?? 0} input-dropped messages; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const packets = Object.values(rec.packetsReceived);
  t.equal(packets.length, 2, 'two inbound audio tracks');
  t.ok(packets.every((p) => p > 100), `both tracks received RTP (${packets.join(', ')} packets)`);
  const half = Math.floor(rec.t.length / 2);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const vocalsLevel = median(rec.vocals.slice(half));
  const accLevel = median(rec.accompaniment.slice(half));
  t.ok(vocalsLevel > 1e-4, `vocals track carries audio (median RMS ${vocalsLevel.toExponential(2)})`);
  t.ok(accLevel > 1e-3, `accompaniment track carries audio (median RMS ${accLevel.toExponential(2)})`);
  t.ok(rec.vad.length > 20, `VAD events arrived on the DataChannel (${rec.vad.length})`);
  t.ok(rec.stats > 3, `stats events arrived (${rec.stats})`);

  const sections = alignSections(rec, clip.labels10ms, clip.envelope);
  const input = sections.input;
  const where = input.segments.map((s) => `${s.phaseSec.toFixed(2)} s` + (s.fromSec > 0 ? ` from ${s.fromSec.toFixed(2)} s` : '')).join(', ');
  t.comment(
    `alignment: song position at recording start ${where}; output lag ${(sections.outputLagMs).toFixed(0)} ms; ` +
      `vocals RMS instrumental/sung ${sections.vocals.instrumental.toExponential(2)}/${sections.vocals.sung.toExponential(2)}, ` +
      `accompaniment ${sections.accompaniment.instrumental.toExponential(2)}/${sections.accompaniment.sung.toExponential(2)}, ` +
      `VAD agreement ${(sections.vadAgreement * 100).toFixed(0)} % over ${sections.vadHops} hops`,
  );
  // The recorded microphone is the song: its envelope follows the song's (corr over the blocks with signal, allowing
  // for the fake capture restarting or stalling a few times), and signal was there for most of the recording.
  const judged = (a: InputAlignment): string =>
    `envelope corr ${a.corr.toFixed(2)} [a match needs ≥ ${INPUT_MATCH.minCorr}], signal in ${(a.coverage * 100).toFixed(0)} % of the recording ` +
    `[≥ ${INPUT_MATCH.minCoverage * 100} %], ${a.jumps} song-position jumps [≤ ${INPUT_MATCH.maxJumps}]`;
  t.ok(inputMatches(input), `the recorded input envelope matches the song (alignment is meaningful): ${judged(input)}`);
  // Negative controls on the same recording, so the check above is known to be able to fail.
  for (const control of clip.controls) {
    const a = alignInput(rec, control.envelope);
    t.notOk(inputMatches(a), `control: the recording does not match ${control.name}: ${judged(a)}`);
  }
  const silent = alignInput({ ...rec, input: rec.input.map(() => 0) }, clip.envelope);
  t.notOk(inputMatches(silent), `control: a silent microphone does not match the song: ${judged(silent)}`);
  if (!model.trained) {
    t.comment('SKIPPED separation-quality assertions (vocals quieter in instrumental sections, VAD in sung sections): models/lstm is absent, the random model cannot separate');
    return;
  }
  // The same model offline on the same clip: what the transport should reproduce (tells model from plumbing).
  const offline = await createOfflineSeparator(join(model.modelsDir, model.name));
  const separated = await offline.separate(clip.channels, RATE_HZ);
  await offline.close();
  const sectionRms = (x: Float32Array[], sung: number): number => {
    let sum = 0;
    let n = 0;
    for (let f = 0; f < clip.labels10ms.length; f++) {
      if (clip.labels10ms[f] !== sung) continue;
      for (let i = f * 480; i < (f + 1) * 480 && i < x[0]!.length; i++, n++) sum += x[0]![i]! ** 2;
    }
    return Math.sqrt(sum / Math.max(1, n));
  };
  const offlineDb = 20 * Math.log10(sectionRms(separated.vocals, 0) / sectionRms(separated.vocals, 1));
  t.comment(`offline reference, same model and clip: vocals instrumental vs sung ${offlineDb.toFixed(1)} dB`);
  const vocalsRatio = sections.vocals.instrumental / sections.vocals.sung;
  const accRatio = sections.accompaniment.instrumental / sections.accompaniment.sung;
  t.ok(vocalsRatio < 0.5, `vocals much quieter in instrumental sections (${(20 * Math.log10(vocalsRatio)).toFixed(1)} dB)`);
  t.ok(accRatio > 2 * vocalsRatio, `accompaniment is not (${(20 * Math.log10(accRatio)).toFixed(1)} dB)`);
  t.ok(sections.vadAgreement > 0.7, `VAD active in sung sections and off in instrumental ones (${(sections.vadAgreement * 100).toFixed(0)} % agreement)`);
});

t.test('closing the page frees the session (metrics)', async (t) => {
  await t.resolves(async () => {
    const deadline = Date.now() + 10_000;
    while ((server.registry.activeCount > 0 || (await metricValue(server, 'livestem_webrtc_peers_active')) > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  t.equal(server.registry.activeCount, 0);
  t.equal(await metricValue(server, 'livestem_webrtc_peers_active'), 0);
  t.equal(await metricValue(server, 'livestem_webrtc_peers_ended_total', 'reason="deleted"'), 1, 'ended by the SDK close() (DELETE)');
});

t.test("the SDK's karaoke mode: one track, mixed on the server, carrying the whole mix", async (t) => {
  const page = await browser.newPage();
  // tsx-style loaders may wrap named functions in a `__name` helper the page does not have.
  await page.addInitScript('globalThis.__name = (f) => f;');
  await page.goto(`${server.httpUrl}/`);
  // vocalGain 1: accompaniment + vocals = the input, whatever the model does, so the track must be the input, delayed.
  const run = (await page.evaluate(runPage, { mode: 'karaoke' as const, vocalGain: 1, recordMs: 8000 })) as PageRun;
  await page.close();
  t.same(Object.keys(run.outputs), ['karaoke'], 'one output track, karaoke');
  t.same(Object.keys(run.outputMids), ['karaoke'], 'the server negotiated one output transceiver');
  t.equal(Object.keys(run.inbound).length, 1, 'the browser receives one audio track');
  const decode = (b64: string): Float32Array => {
    const bytes = Buffer.from(b64, 'base64');
    return Float32Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2), (x) => x / 32768);
  };
  const windows = lagWindows(decode(run.mic), decode(run.outputs['karaoke']!), { sampleRateHz: run.sampleRateHz, windowSamples: 24000, stepSamples: 24000, maxLagSamples: 24000 });
  const corr = windows.map((w) => w.corr).sort((a, b) => a - b);
  const median = corr[Math.floor(corr.length / 2)] ?? 0;
  // A vocals-only or accompaniment-only track correlates far less with the song than the song itself does.
  t.ok(median > 0.8, `the track is the input (vocals + accompaniment), delayed: median window correlation ${median.toFixed(2)} over ${corr.length} windows`);
  t.comment(`karaoke round trip per window (ms, not asserted): ${windows.map((w) => w.lagMs.toFixed(0)).join(' ')}`);
});
