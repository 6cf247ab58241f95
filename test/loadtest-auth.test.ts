/**
 * The load tester against a server with an API key (docs/protocol.md §1, §7): with the key every client (SDK,
 * header-only WebSocket, WebRTC) streams and every /metrics scrape succeeds; without it the step still completes and
 * reports the sessions as failed with LIVESTEM_ERR_UNAUTHORIZED and the scrapes as 401s. The CLI takes the key from
 * LIVESTEM_API_KEY and never writes it out.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { writeWav } from '../server/dsp/wav.ts';
import { connectSdk } from '../loadtest/clients/sdk-client.ts';
import type { Connector, TransportKind } from '../loadtest/clients/types.ts';
import { connectWebRtc } from '../loadtest/clients/webrtc-client.ts';
import { connectWebSocket } from '../loadtest/clients/ws-client.ts';
import { runStep, type StepOptions } from '../loadtest/run-step.ts';
import { toWebRtcSong, type Song } from '../loadtest/song.ts';
import { startWebrtcServer } from './helpers/browser.ts';
import { exportTestModel, testSong } from './helpers/server-harness.ts';

const RATE_HZ = 44100;
const API_KEY = 'k'.repeat(32);

const model = await exportTestModel(13);
// the WebRTC test server: the same server as main.ts builds (stream, /metrics, and POST /v1/webrtc), here with a key
const { server } = await startWebrtcServer({ modelsDir: model.modelsDir, name: 'lstm', trained: false }, { apiKey: API_KEY });
t.teardown(async () => {
  await server.close();
  await model.cleanup();
});
const song: Song = { name: 'auth test song', sampleRateHz: RATE_HZ, channels: testSong(RATE_HZ, RATE_HZ, 2, 3) };
const metricsUrl = `${server.httpUrl}/metrics`;

function options(streams: number, websocket: Connector | null, apiKey: string | undefined): StepOptions {
  return {
    url: server.streamUrl,
    streams,
    webrtcStreams: 0,
    durationS: 1,
    song,
    frameSizesMs: [20],
    staggerMs: 100,
    format: 's16le',
    lateThresholdMs: 1000,
    metricsUrl,
    ...(apiKey !== undefined ? { apiKey } : {}),
    pingIntervalMs: 250,
    doneTimeoutMs: 20_000,
    connectors: { websocket, webrtc: null },
  };
}

const clients: Array<[string, Connector]> = [
  ['sdk', connectSdk],
  ['ws-raw', connectWebSocket],
];

for (const [name, connector] of clients) {
  t.test(`${name} client with the key: streams complete, scrapes succeed`, async (t) => {
    const step = await runStep(options(2, connector, API_KEY));
    t.same(step.sessions, { started: 2, completed: 2, failed: 0, errors: {}, errorExamples: {} });
    t.equal(step.continuity.gaps, 0);
    t.ok(step.e2eMs.count > 0, 'latency measured');
    t.equal(step.server?.scrapeErrors, 0);
    t.ok((step.server?.scrapes ?? 0) >= 2, 'scraped at the start and at the end');
    t.equal(step.server?.counters['livestem_sessions_started_total'], 2, '/metrics saw the step');
  });

  t.test(`${name} client without the key: sessions fail UNAUTHORIZED, scrapes fail 401, no crash`, async (t) => {
    const step = await runStep(options(2, connector, undefined));
    t.same(step.sessions.errors, { LIVESTEM_ERR_UNAUTHORIZED: 2 });
    t.equal(step.sessions.failed, 2);
    t.equal(step.sessions.completed, 0);
    t.equal(step.server?.scrapes, 0);
    t.ok((step.server?.scrapeErrors ?? 0) >= 2);
    t.match(step.server, { lastError: /^HTTP 401: the server needs its API key/ });
  });
}

t.test('ws-raw client with a wrong key: UNAUTHORIZED, and the scrape says the key was refused', async (t) => {
  const step = await runStep(options(1, connectWebSocket, 'w'.repeat(32)));
  t.same(step.sessions.errors, { LIVESTEM_ERR_UNAUTHORIZED: 1 });
  t.match(step.server, { lastError: /^HTTP 401: the server refused the API key/ });
});

t.test('WebRTC client: the offer carries the key; without it the POST is refused', async (t) => {
  const webrtc = (apiKey: string | undefined): StepOptions => ({
    ...options(1, null, apiKey),
    webrtcStreams: 1,
    durationS: 1.5,
    webrtcSong: toWebRtcSong(song),
    metricsUrl: null,
    connectors: { websocket: null, webrtc: connectWebRtc } satisfies Record<TransportKind, Connector | null>,
  });
  const withKey = await runStep(webrtc(API_KEY));
  t.same(withKey.sessions, { started: 1, completed: 1, failed: 0, errors: {}, errorExamples: {} }, 'offer accepted, DELETE without credentials');
  t.ok(withKey.e2eMs.count > 0, 'output packets located');
  const without = await runStep(webrtc(undefined));
  t.same(without.sessions.errors, { LIVESTEM_ERR_UNAUTHORIZED: 1 });
});

t.test('CLI: the key comes from LIVESTEM_API_KEY, not argv, and is not written to the report', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livestem-loadtest-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const wav = join(dir, 'song.wav');
  await writeWav(wav, song.channels, RATE_HZ);
  const out = join(dir, 'out');
  const args = ['--import', 'tsx', 'loadtest/cli.ts', '--url', server.streamUrl, '--streams', '1', '--duration', '1', '--input', wav];
  // a generous SLO: this checks credentials, not latency on a shared machine
  args.push('--stagger-ms', '1', '--slo-p99-ms', '100000', '--client', 'ws-raw', '--out', out);
  // async child: the server under test runs in this process and must keep serving while the CLI runs
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, LIVESTEM_API_KEY: API_KEY }, timeout: 120_000 });
  t.match(stdout, /1 streams: .* failed 0/);
  const files = await readdir(out);
  t.ok(files.includes('report.json'));
  const reportText = await readFile(join(out, 'report.json'), 'utf8');
  const report = JSON.parse(reportText) as { steps: Array<{ sessions: { completed: number }; server: { scrapeErrors: number } | null }> };
  t.equal(report.steps[0]!.sessions.completed, 1);
  t.equal(report.steps[0]!.server?.scrapeErrors, 0);
  for (const name of files) {
    const text = await readFile(join(out, name), 'latin1');
    t.notOk(text.includes(API_KEY), `the key is not in ${name}`);
  }
  t.notOk(stdout.includes(API_KEY), 'nor on stdout');
});
