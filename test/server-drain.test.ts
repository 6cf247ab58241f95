import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import t from 'tap';
import { StreamClient, exportTestModel, pcmBytes, testSong } from './helpers/server-harness.ts';

const fixture = await exportTestModel(17);
t.teardown(() => fixture.cleanup());

t.test('npm start entry: SIGTERM drains (readyz 503, new sessions refused, active ones finish), then exits 0', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', '0', '--host', '127.0.0.1', '--drain-timeout-ms', '3000'], {
    env: { ...process.env, LIVESTEM_MODELS_DIR: fixture.modelsDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const logs: Array<Record<string, unknown>> = [];
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      logs.push(record);
      if (record['msg'] === 'listening') resolve(record['port'] as number);
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  const port = await listening;
  const base = `http://127.0.0.1:${port}`;
  t.ok(logs.some((l) => l['msg'] === 'model loaded' && l['executionProvider'] === 'cpu'), 'logs which execution provider is active');

  const rate = 16000;
  const song = testSong(rate, rate, 1, 5);
  const active = new StreamClient(`ws://127.0.0.1:${port}/v1/stream`);
  await active.start({ sampleRateHz: rate, channels: 1, format: 's16le' });
  active.ws.send(pcmBytes(song, 0, rate / 2, 's16le'));
  await active.until(() => active.received('vocals') > 0, 'output');

  child.kill('SIGTERM');
  const draining = await active.waitFor('draining');
  t.equal(draining['deadlineMs'], 3000);
  // The active session keeps streaming and, left unfinished, is flushed and closed at the deadline.
  active.ws.send(pcmBytes(song, rate / 2, rate, 's16le'));
  t.equal((await fetch(`${base}/readyz`)).status, 503, 'not ready while draining');
  const late = new StreamClient(`ws://127.0.0.1:${port}/v1/stream`);
  await late.opened;
  late.sendJson({ type: 'start', sampleRateHz: rate, channels: 1, format: 's16le' });
  t.same(await late.expectError(), { code: 'LIVESTEM_ERR_DRAINING', closeCode: 1012 }, 'no new sessions');

  const done = await active.waitFor('done', 10_000);
  t.equal(done['reason'], 'shutdown');
  t.equal(done['outputSamples'], rate, 'everything it sent came out');
  t.equal(await active.closed, 1001);
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0, 'process exits 0 after the drain');
});

t.test('--help prints the options and exits 0; a bad flag exits 2', async (t) => {
  const help = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  help.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const [helpCode] = (await once(help, 'exit')) as [number];
  t.equal(helpCode, 0);
  t.match(text, /--port\s+PORT/);
  t.match(text, /LIVESTEM_API_KEY/);
  const bad = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [badCode] = (await once(bad, 'exit')) as [number];
  t.equal(badCode, 2);
  t.match(err, /--port: "eighty" is not a number/);
});

t.test('SIGTERM with clients that keep streaming and with stalled sockets: lossless flush for every client, prompt exit', async (t) => {
  const apiKey = 'drain-test-key-0123456789';
  const drainTimeoutMs = 1500;
  const closeTimeoutMs = 500;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--port', '0', '--host', '127.0.0.1', '--drain-timeout-ms', String(drainTimeoutMs), '--close-timeout-ms', String(closeTimeoutMs)],
    { env: { ...process.env, LIVESTEM_MODELS_DIR: fixture.modelsDir, LIVESTEM_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record['msg'] === 'listening') resolve(record['port'] as number);
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  const exited = once(child, 'exit') as Promise<[number]>;

  // Live sources: 10 ms frames in real time, and they keep sending until the server says done.
  const rate = 16000;
  const frameSamples = rate / 100;
  const song = testSong(rate * 10, rate, 1, 9);
  const clients = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const client = new StreamClient(`ws://127.0.0.1:${port}/v1/stream`, { headers: { authorization: `Bearer ${apiKey}` } });
      await client.start({ sampleRateHz: rate, channels: 1, format: 's16le' });
      return client;
    }),
  );
  const sent = clients.map(() => 0);
  const pacer = setInterval(() => {
    clients.forEach((c, i) => {
      if (c.message('done') !== undefined || c.closeCode !== undefined || sent[i]! + frameSamples > song[0]!.length) return;
      c.ws.send(pcmBytes(song, sent[i]!, sent[i]! + frameSamples, 's16le'));
      sent[i]! += frameSamples;
    });
  }, 10);
  t.teardown(() => clearInterval(pacer));
  await clients[0]!.until(() => clients.every((c) => c.received('vocals') > 0), 'output on every client');

  // Sockets that would hold a naive shutdown forever.
  const stalled = [
    // an unauthenticated POST whose body never finishes
    'POST /v1/webrtc HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 100000\r\n\r\nv=0\r\n',
    // an upgrade to an unknown path, the client never reads nor closes
    'GET /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    // a stream upgrade without credentials: refused with 4401, and the client never answers the close frame
    'GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  ].map((request) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('error', () => undefined);
    return socket;
  });
  t.teardown(() => stalled.forEach((s) => s.destroy()));
  await new Promise((r) => setTimeout(r, 200));

  const sigtermAtMs = Date.now();
  child.kill('SIGTERM');
  for (const c of clients) await c.waitFor('done', 15_000);
  clearInterval(pacer);
  const [code] = await exited;
  const exitMs = Date.now() - sigtermAtMs;
  t.equal(code, 0, 'exit 0');
  t.ok(exitMs < drainTimeoutMs + 2 * closeTimeoutMs + 3000, `exited ${exitMs} ms after SIGTERM (drain ${drainTimeoutMs} ms) despite stalled sockets`);
  clients.forEach((c, i) => {
    const done = c.message('done')!;
    t.equal(done['reason'], 'shutdown', `client ${i}: done with reason shutdown`);
    t.equal(c.closeCode, 1001, `client ${i}: close 1001`);
    t.equal(c.message('error'), undefined, `client ${i}: no error`);
    const processed = done['inputSamples'] as number;
    t.equal(c.received('vocals'), processed, `client ${i}: every accepted sample came out (${processed})`);
    t.equal(done['outputSamples'], processed, `client ${i}: done counts them`);
    t.ok(processed + (done['inputIgnoredSamples'] as number) <= sent[i]!, `client ${i}: accepted + ignored ≤ sent`);
    t.ok(processed >= rate / 2, `client ${i}: streamed through the drain deadline`);
  });
});
