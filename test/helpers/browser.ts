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
