/**
 * The karaoke demo page: a file or the microphone goes to livestem over WebRTC through the SDK; the page plays the
 * karaoke output (accompaniment + vocal level from the slider), lights the VAD indicator and shows the latency it
 * measures. Built by the server with esbuild (server/demo/demo-plugin.ts); no framework.
 */
import { separateMediaStream, type RtcStatsEvent, type SeparatedMediaStreams, type VadEvent } from '../../../client-sdk/src/index.ts';
import { estimateLatency, jitterBufferMsSince, type JitterCounters, type LatencyEstimate } from './latency-estimate.ts';

interface DemoState {
  phase: 'idle' | 'connecting' | 'live' | 'error';
  source: 'file' | 'microphone' | undefined;
  vadActive: boolean;
  vadEvents: number;
  statsEvents: number;
  algorithmicLatencyMs: number | undefined;
  measuredLatencyMs: number | undefined;
  /** The measured terms behind `measuredLatencyMs`. */
  latencyTerms: LatencyEstimate['terms'];
  inputRms: number;
  outputRms: number;
  error: string | undefined;
}

const state: DemoState = {
  phase: 'idle',
  source: undefined,
  vadActive: false,
  vadEvents: 0,
  statsEvents: 0,
  algorithmicLatencyMs: undefined,
  measuredLatencyMs: undefined,
  latencyTerms: [],
  inputRms: 0,
  outputRms: 0,
  error: undefined,
};
// Exposed for the page's automated test and for curious users in the console.
(globalThis as { livestemDemo?: DemoState }).livestemDemo = state;

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} missing from the page`);
  return found as T;
}

const fileInput = el<HTMLInputElement>('file');
const micButton = el<HTMLButtonElement>('mic');
const stopButton = el<HTMLButtonElement>('stop');
const modelSelect = el<HTMLSelectElement>('model');
const vocalSlider = el<HTMLInputElement>('vocal');
const vocalValue = el<HTMLOutputElement>('vocal-value');
const vadDot = el<HTMLElement>('vad-dot');
const vadLabel = el<HTMLElement>('vad-label');
const latencyLabel = el<HTMLElement>('latency');
const stateLabel = el<HTMLElement>('state');
const details = el<HTMLElement>('details');
const player = el<HTMLAudioElement>('player');
const meterIn = el<HTMLCanvasElement>('meter-input');
const meterOut = el<HTMLCanvasElement>('meter-output');
const vadCanvas = el<HTMLCanvasElement>('vad-history');

const HISTORY = 240;
const vadHistory: number[] = [];
interface Running {
  sep: SeparatedMediaStreams;
  ctx: AudioContext;
  stream: MediaStream;
  source: DemoState['source'];
  stopSource(): void;
  timer: number;
}
let running: Running | undefined;

function setPhase(phase: DemoState['phase'], text?: string): void {
  state.phase = phase;
  stateLabel.textContent = text ?? phase;
  micButton.disabled = phase === 'connecting' || phase === 'live';
  fileInput.disabled = micButton.disabled;
  stopButton.disabled = phase !== 'live';
}

async function loadModels(): Promise<void> {
  const res = await fetch('/v1/models');
  // With an API key configured the list needs the key, which a browser must not hold: fall back to the default model.
  if (!res.ok) {
    modelSelect.replaceChildren(new Option('server default', '', true, true));
    return;
  }
  const body = (await res.json()) as { models: { name: string; arch: string; default: boolean }[] };
  modelSelect.replaceChildren(
    ...body.models.map((m) => {
      const option = new Option(`${m.name} (${m.arch})`, m.name, m.default, m.default);
      return option;
    }),
  );
}

function rms(analyser: AnalyserNode, buf: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buf);
  let sum = 0;
  for (const x of buf) sum += x * x;
  return Math.sqrt(sum / buf.length);
}

function drawMeter(canvas: HTMLCanvasElement, level: number): void {
  const g = canvas.getContext('2d');
  if (g === null) return;
  const db = 20 * Math.log10(level + 1e-9);
  const fraction = Math.max(0, Math.min(1, (db + 60) / 60));
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = fraction > 0.9 ? '#ff5c8a' : '#45d19b';
  g.fillRect(0, 0, canvas.width * fraction, canvas.height);
}

function drawVadHistory(): void {
  const g = vadCanvas.getContext('2d');
  if (g === null) return;
  const w = vadCanvas.width / HISTORY;
  g.clearRect(0, 0, vadCanvas.width, vadCanvas.height);
  vadHistory.forEach((p, i) => {
    g.fillStyle = p > 0.5 ? '#ff5c8a' : '#3b4556';
    const h = Math.max(2, p * vadCanvas.height);
    g.fillRect(i * w, vadCanvas.height - h, Math.max(1, w - 1), h);
  });
}

function onVad(ev: VadEvent): void {
  state.vadEvents++;
  state.vadActive = ev.active;
  vadDot.classList.toggle('on', ev.active);
  vadLabel.textContent = ev.active ? 'singing' : 'no vocals';
  // One bar per ~46 ms keeps the history readable whatever the model's hop.
  const mean = ev.probs.reduce((s, p) => s + p, 0) / Math.max(1, ev.probs.length);
  vadHistory.push(mean);
  if (vadHistory.length > HISTORY) vadHistory.splice(0, vadHistory.length - HISTORY);
}

/** The last server stats and jitter-buffer counters, for the next latency estimate. */
interface Measured {
  serverStats: RtcStatsEvent | undefined;
  jitter: JitterCounters | undefined;
  jitterBufferMs: number | undefined;
}

/** The latency the listener experiences, summed from measured terms (latency-estimate.ts); never a fixed number. */
async function measureLatency(pc: RTCPeerConnection, ctx: AudioContext, measured: Measured): Promise<void> {
  const report = await pc.getStats();
  let rttMs: number | undefined;
  report.forEach((s: { type: string; kind?: string; state?: string; currentRoundTripTime?: number; jitterBufferDelay?: number; jitterBufferEmittedCount?: number }) => {
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) rttMs = s.currentRoundTripTime * 1000;
    if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.jitterBufferEmittedCount !== undefined) {
      const current = { jitterBufferDelaySec: s.jitterBufferDelay ?? 0, jitterBufferEmittedCount: s.jitterBufferEmittedCount };
      measured.jitterBufferMs = jitterBufferMsSince(measured.jitter, current) ?? measured.jitterBufferMs;
      measured.jitter = current;
    }
  });
  const server = measured.serverStats;
  // Only once every term has been measured at least once: a partial sum would understate what the listener hears.
  if (state.algorithmicLatencyMs === undefined || server === undefined || rttMs === undefined || measured.jitterBufferMs === undefined) return;
  const estimate = estimateLatency({
    algorithmicMs: state.algorithmicLatencyMs,
    serverProcessingMs: server.processingLatencyMs.mean,
    pacerWaitMs: server.rtc.pacerWaitMs.mean,
    networkRttMs: rttMs,
    jitterBufferMs: measured.jitterBufferMs,
    playoutMs: ((ctx.baseLatency || 0) + (ctx.outputLatency || 0)) * 1000,
  });
  state.measuredLatencyMs = estimate.totalMs;
  state.latencyTerms = estimate.terms;
  latencyLabel.textContent = `≈ ${estimate.totalMs.toFixed(0)} ms`;
  latencyLabel.title = estimate.terms.map((t) => `${t.name} ${t.ms.toFixed(1)} ms`).join(' + ');
}

async function start(stream: MediaStream, ctx: AudioContext, source: DemoState['source'], stopSource: () => void): Promise<void> {
  setPhase('connecting');
  state.source = source;
  try {
    const sep = await separateMediaStream(stream, {
      url: location.origin,
      model: modelSelect.value,
      mode: 'karaoke',
      vocalGain: Number(vocalSlider.value),
    });
    const karaoke = sep.karaoke!;
    player.srcObject = karaoke;
    const inAnalyser = ctx.createAnalyser();
    const outAnalyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(stream).connect(inAnalyser);
    ctx.createMediaStreamSource(karaoke).connect(outAnalyser);
    sep.events.on('ready', (ready) => {
      state.algorithmicLatencyMs = ready.latency.ms;
      details.textContent = `model ${ready.model.name} · ${ready.model.nFft}-point STFT, hop ${ready.model.hopSamples} @ ${ready.model.sampleRateHz} Hz · session ${ready.sessionId.slice(0, 8)}`;
    });
    sep.events.on('vad', onVad);
    const measured: Measured = { serverStats: undefined, jitter: undefined, jitterBufferMs: undefined };
    sep.events.on('stats', (stats) => {
      state.statsEvents++;
      measured.serverStats = stats;
    });
    sep.events.on('error', (err) => {
      state.error = `${err.code}: ${err.message}`;
      details.textContent = state.error;
    });
    sep.events.on('close', ({ reason }) => {
      if (running?.sep === sep) stop(`ended (${reason})`);
    });
    const timer = window.setInterval(() => {
      measureLatency(sep.pc, ctx, measured).catch((err: unknown) => {
        details.textContent = `stats failed: ${String(err)}`;
      });
    }, 500);
    running = { sep, ctx, stream, source, stopSource, timer };
    setPhase('live', source === 'file' ? 'playing file' : 'listening');
    const buf = new Float32Array(1024);
    const frame = (): void => {
      if (running?.sep !== sep) return;
      state.inputRms = rms(inAnalyser, buf);
      state.outputRms = rms(outAnalyser, buf);
      drawMeter(meterIn, state.inputRms);
      drawMeter(meterOut, state.outputRms);
      drawVadHistory();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  } catch (err) {
    stopSource();
    state.error = err instanceof Error ? err.message : String(err);
    details.textContent = state.error;
    setPhase('error', 'error');
  }
}

function stop(text = 'stopped'): void {
  const r = running;
  running = undefined;
  if (r !== undefined) {
    window.clearInterval(r.timer);
    r.stopSource();
    player.srcObject = null;
    r.sep.close().catch((err: unknown) => {
      details.textContent = `close failed: ${String(err)}`;
    });
    r.ctx.close().catch((err: unknown) => {
      details.textContent = `audio context close failed: ${String(err)}`;
    });
  }
  vadDot.classList.remove('on');
  setPhase('idle', text);
}

micButton.addEventListener('click', () => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  navigator.mediaDevices
    .getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 2 } })
    .then((stream) => start(stream, ctx, 'microphone', () => stream.getTracks().forEach((t) => t.stop())))
    .catch((err: unknown) => {
      state.error = `microphone: ${String(err)}`;
      details.textContent = state.error;
      setPhase('error', 'error');
    });
});

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file === undefined) return;
  const ctx = new AudioContext({ sampleRate: 48000 });
  const audio = new Audio(URL.createObjectURL(file));
  const source = ctx.createMediaElementSource(audio);
  const dest = ctx.createMediaStreamDestination();
  source.connect(dest);
  audio.addEventListener('ended', () => stop('song finished'));
  audio
    .play()
    .then(() =>
      start(dest.stream, ctx, 'file', () => {
        audio.pause();
        URL.revokeObjectURL(audio.src);
      }),
    )
    .catch((err: unknown) => {
      state.error = `file: ${String(err)}`;
      details.textContent = state.error;
      setPhase('error', 'error');
    });
});

vocalSlider.addEventListener('input', () => {
  const gain = Number(vocalSlider.value);
  vocalValue.textContent = `${Math.round(gain * 100)} %`;
  running?.sep.setVocalGain(gain);
});

stopButton.addEventListener('click', () => stop());

// Switching models mid-song: a new session on the same source (the server keeps one model per session).
modelSelect.addEventListener('change', () => {
  const r = running;
  if (r === undefined) return;
  running = undefined;
  window.clearInterval(r.timer);
  vadHistory.length = 0;
  r.sep.close().catch((err: unknown) => {
    details.textContent = `close failed: ${String(err)}`;
  });
  start(r.stream, r.ctx, r.source, r.stopSource).catch((err: unknown) => {
    details.textContent = `restart failed: ${String(err)}`;
  });
});

loadModels().catch((err: unknown) => {
  details.textContent = `could not list models: ${String(err)}`;
});
setPhase('idle');
