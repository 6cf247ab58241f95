/**
 * The karaoke demo page served at `/` and the SDK bundle at `/sdk/livestem.js`: the page lists the server's models,
 * "Use microphone" (a generated song as Chromium's fake microphone) goes live over WebRTC, the VAD indicator and
 * latency fill in, audio comes back; a screenshot after a few seconds of playback goes to test-results/demo.png.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeWav } from '../server/dsp/wav.ts';
import { launchChromium, startWebrtcServer, testModel } from './helpers/browser.ts';

const RATE_HZ = 48000;
const dir = await mkdtemp(join(tmpdir(), 'livestem-demo-'));
const wavPath = join(dir, 'song.wav');
{
  // 8 s: drums + bass throughout, a vibrato "voice" in the second half of every 4 s.
  const n = 8 * RATE_HZ;
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = i / RATE_HZ;
    const beat = s % 0.5;
    const kick = beat < 0.08 ? 0.5 * Math.sin(2 * Math.PI * 60 * beat) : 0;
    const bass = 0.15 * Math.sin(2 * Math.PI * 110 * s);
    const voice = s % 4 >= 2 ? 0.15 * Math.sin(2 * Math.PI * 392 * s * (1 + 0.004 * Math.sin(2 * Math.PI * 5 * s))) : 0;
    l[i] = kick + bass + voice;
    r[i] = kick + 0.8 * bass + voice;
  }
  await writeWav(wavPath, [l, r], RATE_HZ, 's16');
}

const model = await testModel();
const { server } = await startWebrtcServer(model);
const browser = await launchChromium(wavPath);
t.teardown(async () => {
  await browser.close();
  await server.close();
});

t.test('the SDK bundle is served as one ES module', async (t) => {
  const res = await fetch(`${server.httpUrl}/sdk/livestem.js`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/javascript/);
  const body = await res.text();
  for (const name of ['connect', 'separateMediaStream', 'streamAudioNode', 'LivestemClientError']) {
    t.ok(new RegExp(`export\\s*\\{[^}]*\\b${name}\\b`).test(body), `exports ${name}`);
  }
  t.notMatch(body, /from\s*["']\.\.\/\.\.\/server/, 'no server code in the browser bundle');
});

t.test('demo page: microphone → live karaoke with VAD and latency, screenshot', async (t) => {
  const page = await browser.newPage({ viewport: { width: 860, height: 640 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${server.httpUrl}/`);
  await page.waitForFunction(() => (document.getElementById('model') as HTMLSelectElement).options.length > 0);
  t.equal(await page.locator('#model').inputValue(), model.name, 'the model list comes from /v1/models');
  await page.locator('#vocal').fill('0.25');
  await page.locator('#mic').click();
  await page.waitForFunction(() => (globalThis as { livestemDemo?: { phase: string } }).livestemDemo?.phase === 'live', undefined, { timeout: 15_000 });
  // Wait for the session to produce (the machine may be busy), then a few seconds of playback for the screenshot.
  await page.waitForFunction(() => ((globalThis as { livestemDemo?: { vadEvents: number } }).livestemDemo?.vadEvents ?? 0) > 10, undefined, { timeout: 20_000 });
  await page.waitForTimeout(3000);
  const state = await page.evaluate(() => (globalThis as unknown as { livestemDemo: Record<string, unknown> }).livestemDemo);
  t.equal(state['phase'], 'live');
  t.equal(state['source'], 'microphone');
  t.ok((state['vadEvents'] as number) > 10, `VAD indicator fed (${String(state['vadEvents'])} events)`);
  t.ok((state['outputRms'] as number) > 1e-4, `karaoke audio is playing (RMS ${(state['outputRms'] as number).toExponential(2)})`);
  const latency = state['measuredLatencyMs'] as number | undefined;
  t.ok(latency !== undefined && latency > (state['algorithmicLatencyMs'] as number), `latency shown: ${latency?.toFixed(0)} ms (model ${(state['algorithmicLatencyMs'] as number | undefined)?.toFixed(1)} ms)`);
  t.match(await page.locator('#latency').textContent(), /≈ \d+ ms/);
  // The figure is the sum of measured terms (getStats, the server's stats and ready), not a constant.
  const terms = state['latencyTerms'] as { name: string; ms: number }[];
  const term = (name: string): number | undefined => terms.find((x) => x.name === name)?.ms;
  t.comment(`latency terms: ${terms.map((x) => `${x.name} ${x.ms.toFixed(1)} ms`).join(' + ')}`);
  t.equal(term('model (algorithmic)'), state['algorithmicLatencyMs'], 'model term = ready.latency.ms');
  t.ok((term('browser jitter buffer') ?? 0) > 0, `browser jitter buffer measured from getStats (${term('browser jitter buffer')?.toFixed(1)} ms)`);
  t.ok(term('server pacer') !== undefined && term('network round trip') !== undefined, 'server pacer wait and network round trip are terms');
  t.equal(Math.round(terms.reduce((a, x) => a + x.ms, 0)), Math.round(latency ?? 0), 'the latency shown is the sum of its terms');
  t.equal(await page.locator('#vocal-value').textContent(), '25 %');
  await mkdir('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/demo.png', fullPage: true });
  t.comment('screenshot: test-results/demo.png');
  await page.locator('#stop').click();
  t.equal(await page.evaluate(() => (globalThis as unknown as { livestemDemo: { phase: string } }).livestemDemo.phase), 'idle');
  t.same(errors, [], 'no page errors');
  await page.close();
});

t.test('demo page: a song file plays live through the server', async (t) => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${server.httpUrl}/`);
  await page.waitForFunction(() => (document.getElementById('model') as HTMLSelectElement).options.length > 0);
  await page.locator('#file').setInputFiles(wavPath);
  await page.waitForFunction(() => (globalThis as { livestemDemo?: { phase: string } }).livestemDemo?.phase === 'live', undefined, { timeout: 15_000 });
  await page.waitForFunction(() => ((globalThis as { livestemDemo?: { vadEvents: number } }).livestemDemo?.vadEvents ?? 0) > 10, undefined, { timeout: 20_000 });
  const state = await page.evaluate(() => (globalThis as unknown as { livestemDemo: { source: string; inputRms: number; outputRms: number } }).livestemDemo);
  t.equal(state.source, 'file');
  t.ok(state.inputRms > 1e-3, `the file feeds the session (input RMS ${state.inputRms.toExponential(2)})`);
  t.ok(state.outputRms > 1e-4, `karaoke output plays (RMS ${state.outputRms.toExponential(2)})`);
  await page.locator('#stop').click();
  t.same(errors, [], 'no page errors');
  await page.close();
});

t.test('AudioWorklet path: an oscillator streamed over WebSocket comes back as PCM with offsets and a player node', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${server.httpUrl}/`);
  const result = await page.evaluate(async () => {
    const sdkUrl = '/sdk/livestem.js';
    const sdk = (await import(sdkUrl)) as typeof import('../client-sdk/src/index.ts');
    const ctx = new AudioContext({ sampleRate: 48000 });
    const osc = new OscillatorNode(ctx, { frequency: 440 });
    const gain = new GainNode(ctx, { gain: 0.3 });
    osc.connect(gain);
    osc.start();
    const live = await sdk.streamAudioNode(ctx, gain, { url: location.origin, outputs: ['vocals', 'accompaniment'], play: ['accompaniment'] });
    const offsets: number[] = [];
    let samples = 0;
    let peak = 0;
    live.session.on('accompaniment', (c) => {
      offsets.push(c.sampleOffset);
      samples += c.samples[0]!.length;
      for (const x of c.samples[0]!) peak = Math.max(peak, Math.abs(x));
    });
    const analyser = new AnalyserNode(ctx);
    live.players.get('accompaniment')!.connect(analyser);
    await new Promise((r) => setTimeout(r, 1500));
    // The loudest of 20 snapshots over the next second: one 21 ms window can land in a gap on a busy machine.
    const buf = new Float32Array(1024);
    let playerRms = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      analyser.getFloatTimeDomainData(buf);
      playerRms = Math.max(playerRms, Math.sqrt(buf.reduce((s, x) => s + x * x, 0) / buf.length));
    }
    await live.stop();
    osc.stop();
    await ctx.close();
    return { rate: live.session.ready.input.sampleRateHz, inputSamples: live.session.inputSamples, offsets, samples, peak, playerRms, state: live.session.state };
  });
  t.equal(result.rate, 48000, 'session at the AudioContext rate');
  t.ok(result.inputSamples > 48000, `captured audio was written (${result.inputSamples} samples)`);
  t.equal(result.offsets[0], 0, 'first chunk at offset 0');
  t.ok(result.offsets.every((o, i) => i === 0 || o > result.offsets[i - 1]!), 'offsets increase');
  t.equal(result.samples, result.inputSamples, 'after stop() (end), every input sample came back');
  t.ok(result.peak > 0.05, `accompaniment PCM carries the tone (peak ${result.peak.toFixed(3)})`);
  t.ok(result.playerRms > 1e-3, `the player node plays it (RMS ${result.playerRms.toExponential(2)})`);
  t.equal(result.state, 'closed');
  await page.close();
});
