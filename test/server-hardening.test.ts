/**
 * A public endpoint under attack, over real sockets: request targets that made `new URL` throw, unknown WebSocket
 * paths, a client that never reads while flooding control messages, a ping flood, a fatal error with input still
 * queued, and one single-use token tried for several sessions. Each time a witness session streams alongside and
 * must get every sample back.
 */
import { connect } from 'node:net';
import t from 'tap';
import WebSocket from 'ws';
import { MediaStreamTrack, RTCPeerConnection } from 'werift';
import { StreamClient, exportTestModel, pcmBytes, startTestServer, testSong, withWitness } from './helpers/server-harness.ts';
import { startWebrtcServer, testModel } from './helpers/browser.ts';

const fixture = await exportTestModel(23);
t.teardown(() => fixture.cleanup());

const RATE = 16000;
const API_KEY = 'k'.repeat(32);
const ORIGIN = 'https://karaoke.example';

/** Sends raw bytes (fetch and ws normalise targets) and returns what came back before the server closed or `timeoutMs`. */
function rawRequest(port: number, request: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(request);
  });
}

const upgradeRequest = (target: string, extra = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

const MALFORMED_TARGETS = ['//', '//[', '///', '//%', '//:99999', '//[::1', 'http://evil/v1/stream', '*'];

t.test('malformed request targets: 400 on every route and on upgrade, never a crash, with auth and an Origin list', async (t) => {
  const server = await startTestServer(fixture.modelsDir, { allowedOrigins: [ORIGIN] });
  t.teardown(() => server.server.close());
  await withWitness(t, server, async () => {
    for (const target of MALFORMED_TARGETS) {
      const upgrade = await rawRequest(server.server.port, upgradeRequest(target, `Origin: ${ORIGIN}\r\n`));
      t.match(upgrade, /^HTTP\/1\.1 400 /, `upgrade ${target} → 400`);
      t.match(upgrade, /LIVESTEM_ERR_BAD_MESSAGE/, 'with the catalog code');
      const plain = await rawRequest(server.server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      t.match(plain, /^HTTP\/1\.1 400 /, `GET ${target} → 400`);
    }
  });
  t.notOk(
    server.logs.some((l) => l.includes('"level":"error"')),
    'no error log lines for client mistakes',
  );
});

t.test('an unknown WebSocket path is refused inside the WebSocket: error NOT_FOUND, close 4404', async (t) => {
  const server = await startTestServer(fixture.modelsDir);
  t.teardown(() => server.server.close());
  const client = new StreamClient(`ws://127.0.0.1:${server.server.port}/v1/nope`);
  t.same(await client.expectError(), { code: 'LIVESTEM_ERR_NOT_FOUND', closeCode: 4404 });
});

t.test('a client that never reads while flooding stats is paused, then closed SLOW_CONSUMER; memory stays bounded', async (t) => {
  const maxSendBufferBytes = 64 * 1024;
  const server = await startTestServer(fixture.modelsDir, {
    maxSendBufferBytes,
    idleTimeoutMs: 1500,
    closeTimeoutMs: 300,
    maxControlMessagesPerSecond: 100_000,
  });
  t.teardown(() => server.server.close());
  const before = process.memoryUsage();
  let peakQueuedBytes = 0;
  await withWitness(t, server, async () => {
    const flood = new StreamClient(server.url);
    await flood.start({ sampleRateHz: RATE, channels: 2, format: 's16le' });
    // Stop reading: the server's replies pile up on its side (the kernel buffers fill first).
    (flood.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const stats = JSON.stringify({ type: 'stats', id: 'x'.repeat(200) });
    const until = Date.now() + 2500;
    while (Date.now() < until && flood.closeCode === undefined) {
      if (flood.ws.readyState === WebSocket.OPEN && flood.ws.bufferedAmount < 4 << 20) for (let i = 0; i < 200; i++) flood.ws.send(stats);
      for (const s of server.server.registry.sessions()) peakQueuedBytes = Math.max(peakQueuedBytes, s.transport?.bufferedBytes ?? 0);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Read again so the close (or the reset) is seen; a paused socket may never notice the server let go.
    (flood.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await Promise.race([flood.closed, new Promise((r) => setTimeout(r, 10_000))]);
    flood.ws.terminate();
  });
  t.ok(
    server.logs.some((l) => l.includes('"session error"') && l.includes('LIVESTEM_ERR_SLOW_CONSUMER')),
    'the never-reading session failed with SLOW_CONSUMER',
  );
  t.ok(peakQueuedBytes <= maxSendBufferBytes + 4096, `server-side queue, sampled every 5 ms, peaked at ${peakQueuedBytes} bytes (limit ${maxSendBufferBytes})`);
  const after = process.memoryUsage();
  const heapGrowthMb = (after.heapUsed - before.heapUsed) / 1e6;
  const rssGrowthMb = (after.rss - before.rss) / 1e6;
  t.ok(heapGrowthMb < 100, `heap grew ${heapGrowthMb.toFixed(1)} MB, RSS ${rssGrowthMb.toFixed(1)} MB (${(before.rss / 1e6).toFixed(0)} → ${(after.rss / 1e6).toFixed(0)} MB) during the flood`);
});

t.test('a ping flood ends that connection with RATE_LIMITED (4429); the witness streams on', async (t) => {
  const server = await startTestServer(fixture.modelsDir);
  t.teardown(() => server.server.close());
  await withWitness(t, server, async () => {
    const flood = new StreamClient(server.url);
    await flood.start({ sampleRateHz: RATE, channels: 2, format: 's16le' });
    for (let i = 0; i < 5000 && flood.ws.readyState === WebSocket.OPEN; i++) flood.sendJson({ type: 'ping', id: i });
    t.same(await flood.expectError(), { code: 'LIVESTEM_ERR_RATE_LIMITED', closeCode: 4429 });
    const pongs = flood.messages.filter((m) => m.type === 'pong').length;
    // A quarter second's worth (25 of 100/s, start included) plus at most 256 read after reading paused.
    t.ok(pongs <= 290, `${pongs} pongs before the limit`);
  });
});

t.test('a session taken over by resume while its old socket is paused with queued input closes that socket promptly', async (t) => {
  const server = await startTestServer(fixture.modelsDir, { maxBufferedInputMs: 500, closeTimeoutMs: 500 });
  t.teardown(() => server.server.close());
  const first = new StreamClient(server.url);
  const ready = await first.start({ sampleRateHz: 44100, channels: 2, format: 'f32le' });
  // ~3 s of audio at once: the server pauses reading after the first message and works through the rest.
  const halfSecond = new Uint8Array(44100 * 2 * 4 * 0.5);
  for (let i = 0; i < 6; i++) first.ws.send(halfSecond);
  await first.until(() => first.received('vocals') > 0, 'first output');
  const second = new StreamClient(server.url);
  await second.opened;
  const resumeAtMs = Date.now();
  second.sendJson({ type: 'resume', sessionId: ready['sessionId'], resumeToken: ready['resumeToken'], lastSampleOffset: 0 });
  await second.waitFor('resumed');
  t.equal(await first.closed, 4000, 'the old socket is closed with 4000');
  const closeMs = Date.now() - resumeAtMs;
  t.ok(closeMs < 3000, `old socket closed ${closeMs} ms after the takeover`);
  second.ws.terminate();
});

t.test('one token, one session: a token socket carries one session, and a signalling socket answers one offer then closes', async (t) => {
  const model = await testModel();
  const { server } = await startWebrtcServer(model, { apiKey: API_KEY });
  t.teardown(() => server.close());
  const mint = async (): Promise<string> => {
    const res = await fetch(`${server.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } });
    return ((await res.json()) as { token: string }).token;
  };
  const pc = new RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, bundlePolicy: 'max-bundle' });
  t.teardown(() => pc.close());
  pc.createDataChannel('events');
  pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
  const offer = JSON.stringify({ type: 'webrtc-offer', sdp: pc.localDescription!.sdp, outputs: ['vocals', 'accompaniment'] });

  const token = await mint();
  const signalling = new StreamClient(`${server.streamUrl}?token=${encodeURIComponent(token)}`);
  await signalling.opened;
  signalling.ws.send(offer);
  signalling.ws.send(offer); // a second offer on the same socket: never answered
  const answer = await signalling.waitFor('webrtc-answer');
  t.match(answer['resource'], /^\/v1\/webrtc\//, 'answered once');
  t.equal(await signalling.closed, 1000, 'the signalling socket closes after its one answer');
  t.equal(signalling.messages.filter((m) => m.type === 'webrtc-answer').length, 1, 'exactly one answer');

  const reuse = new StreamClient(`${server.streamUrl}?token=${encodeURIComponent(token)}`);
  t.same(await reuse.expectError(), { code: 'LIVESTEM_ERR_UNAUTHORIZED', closeCode: 4401 }, 'the used token opens nothing more');

  const streamToken = await mint();
  const stream = new StreamClient(`${server.streamUrl}?token=${encodeURIComponent(streamToken)}`);
  await stream.start({ sampleRateHz: RATE, channels: 2, format: 's16le' });
  stream.ws.send(offer);
  t.same(await stream.expectError(), { code: 'LIVESTEM_ERR_BAD_MESSAGE', closeCode: 4400 }, 'no webrtc-offer on a stream socket');
  await stream.closed;
  t.equal(server.registry.activeCount, 1, `${server.registry.sessions().map((x) => x.lifecycle.kind).join()}: one WebRTC session in all (the stream socket’s own ended with its error)`);
});

t.test('a fast client sending 700 ms messages is slowed to the engine pace, not failed', async (t) => {
  const server = await startTestServer(fixture.modelsDir);
  t.teardown(() => server.server.close());
  const rate = 44100;
  const song = testSong(rate * 6, rate, 2, 8);
  const client = new StreamClient(server.url);
  await client.start({ sampleRateHz: rate, channels: 2, format: 'f32le' });
  const messageSamples = Math.round(rate * 0.7); // 700 ms: 247 KB, under the 1 MiB message limit
  for (let s = 0; s < song[0]!.length; s += messageSamples) client.ws.send(pcmBytes(song, s, Math.min(song[0]!.length, s + messageSamples), 'f32le'));
  const done = await client.finish();
  t.equal(client.message('error'), undefined, 'no INPUT_OVERRUN');
  t.equal(done['outputSamples'], song[0]!.length, 'every sample came out');
});
