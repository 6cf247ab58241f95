/**
 * The page side of `npm run bench:webrtc`, run in Chromium with `page.evaluate`: the fake microphone goes to the
 * server through the SDK's `separateMediaStream`, and an AudioWorklet records, in one AudioContext, the microphone
 * and every output track sample for sample (what a page that plays or mixes them would get). Returns the recordings
 * as base64 s16 plus the browser's and the server's transport figures. Self-contained: it is serialised into the page.
 */
import type { RtcStatsEvent } from '../client-sdk/src/index.ts';

export interface PageRunOptions {
  mode: 'karaoke' | 'stems';
  vocalGain: number;
  recordMs: number;
}

export interface PageRun {
  sampleRateHz: number;
  /** Base64 of s16le, channel 0: the microphone, then each output in `kinds` order. */
  mic: string;
  outputs: Record<string, string>;
  /** Per output mid: mean jitter-buffer delay over the run (ms) and packets received. */
  inbound: Record<string, { jitterBufferMs: number; packetsReceived: number }>;
  outputMids: Record<string, string>;
  rttMs: number | undefined;
  /** `AudioContext.baseLatency + outputLatency`, ms. */
  playoutMs: number;
  serverStats: RtcStatsEvent | undefined;
  algorithmicMs: number | undefined;
}

export async function runPage(opts: PageRunOptions): Promise<PageRun> {
  const sdkUrl = '/sdk/livestem.js';
  const sdk = (await import(sdkUrl)) as typeof import('../client-sdk/src/index.ts');
  const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const sep = await sdk.separateMediaStream(mic, { url: location.origin, mode: opts.mode, vocalGain: opts.vocalGain });
  let serverStats: RtcStatsEvent | undefined;
  let algorithmicMs: number | undefined;
  let outputMids: Record<string, string> = {};
  sep.events.on('stats', (s) => (serverStats = s));
  sep.events.on('ready', (r) => {
    algorithmicMs = r.latency.ms;
    outputMids = r.outputMids;
  });
  const kinds = [...sep.streams.keys()];
  const ctx = new AudioContext({ sampleRate: 48000 });
  const processor = `registerProcessor('rec', class extends AudioWorkletProcessor {
    constructor() { super(); this.buf = []; this.n = 0; }
    process(inputs) {
      this.buf.push(inputs.map((i) => (i[0] ? i[0].slice() : new Float32Array(128))));
      if (++this.n % 64 === 0) { this.port.postMessage(this.buf); this.buf = []; }
      return true;
    }
  });`;
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([processor], { type: 'text/javascript' })));
  const sources = [mic, ...kinds.map((k) => sep.streams.get(k)!)];
  const node = new AudioWorkletNode(ctx, 'rec', { numberOfInputs: sources.length, numberOfOutputs: 1 });
  sources.forEach((s, i) => ctx.createMediaStreamSource(s).connect(node, 0, i));
  node.connect(ctx.destination);
  // Chromium only pulls remote WebRTC audio into WebAudio while a media element plays it.
  const keep = kinds.map((k) => {
    const el = new Audio();
    el.srcObject = sep.streams.get(k)!;
    el.muted = true;
    void el.play();
    return el;
  });
  const chunks: Float32Array[][] = [];
  node.port.onmessage = (ev: MessageEvent<Float32Array[][]>) => {
    for (const quantum of ev.data) chunks.push(quantum);
  };
  await new Promise((r) => setTimeout(r, opts.recordMs));
  node.port.onmessage = null;
  const report = await sep.pc.getStats();
  const inbound: PageRun['inbound'] = {};
  let rttMs: number | undefined;
  report.forEach((s: { type: string; mid?: string; packetsReceived?: number; jitterBufferDelay?: number; jitterBufferEmittedCount?: number; state?: string; currentRoundTripTime?: number }) => {
    if (s.type === 'inbound-rtp' && s.mid !== undefined) {
      inbound[s.mid] = { jitterBufferMs: s.jitterBufferEmittedCount ? ((s.jitterBufferDelay ?? 0) / s.jitterBufferEmittedCount) * 1000 : 0, packetsReceived: s.packetsReceived ?? 0 };
    }
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) rttMs = s.currentRoundTripTime * 1000;
  });
  const playoutMs = ((ctx.baseLatency || 0) + (ctx.outputLatency || 0)) * 1000;
  await sep.close();
  keep.forEach((el) => el.pause());
  await ctx.close();
  mic.getTracks().forEach((t) => t.stop());
  const encode = (input: number): string => {
    const s16 = new Int16Array(chunks.length * 128);
    chunks.forEach((q, i) => {
      const x = q[input]!;
      for (let j = 0; j < 128; j++) s16[i * 128 + j] = Math.max(-32768, Math.min(32767, Math.round((x[j] ?? 0) * 32767)));
    });
    const bytes = new Uint8Array(s16.buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  };
  return {
    sampleRateHz: ctx.sampleRate,
    mic: encode(0),
    outputs: Object.fromEntries(kinds.map((k, i) => [k, encode(i + 1)])),
    inbound,
    outputMids,
    rttMs,
    playoutMs,
    serverStats,
    algorithmicMs,
  };
}
