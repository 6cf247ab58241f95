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
  t.equal(await page.locator('#vocal-value').textContent(), '25 %');
  await mkdir('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/demo.png', fullPage: true });
  t.comment('screenshot: test-results/demo.png');
  await page.locator('#stop').click();
  t.equal(await page.evaluate(() => (globalThis as unknown as { livestemDemo: { phase: string } }).livestemDemo.phase), 'idle');
  t.same(errors, [], 'no page errors');
  await page.close();
});
