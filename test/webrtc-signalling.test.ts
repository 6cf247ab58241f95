/**
 * WebRTC gateway over real HTTP and a real werift client peer on loopback: bad offers get clear catalog errors,
 * a good offer gets 201 + answer + Location, Opus sent by the client comes back as two decodable output tracks and
 * VAD/stats on the `events` DataChannel, DELETE and a vanished peer both free the session (metrics show why).
 */
import t from 'tap';
import { OpusDecoder } from 'opus-decoder';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCDataChannel } from 'werift';
import { OpusFrameEncoder } from '../server/transport/webrtc/opus-egress.ts';
import { metricValue, startWebrtcServer, testModel } from './helpers/browser.ts';
import type { RtcTransportStats } from '../client-sdk/src/protocol/index.ts';

const model = await testModel();
const { server, gateway } = await startWebrtcServer(model, {}, { stallTimeoutMs: 600, mediaStartTimeoutMs: 3000, statsIntervalMs: 200 });
t.teardown(() => server.close());
const base = server.httpUrl;

async function post(body: string, query = '', contentType = 'application/sdp'): Promise<{ status: number; json: { error?: { code: string; message: string } }; res: Response }> {
  const res = await fetch(`${base}/v1/webrtc${query}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {}, res };
}

// Every hand-made offer is bundled and carries a fingerprint, as browsers' do, so each case fails for its own reason.
const SESSION = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=fingerprint:sha-256 AB:CD:EF:01\r\n';
const audioSection = (codecs: string, direction: string, mid: string): string =>
  `m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:${mid}\r\na=${direction}\r\n${codecs}`;

t.test('bad offers are refused with clear HTTP errors', async (t) => {
  const wrongType = await post('v=0', '', 'text/plain');
  t.equal(wrongType.status, 415);
  t.equal(wrongType.json.error?.code, 'LIVESTEM_ERR_UNSUPPORTED_FORMAT');
  t.match(wrongType.json.error?.message, /application\/sdp/);

  const garbage = await post('hello, I am not SDP');
  t.equal(garbage.status, 400);
  t.equal(garbage.json.error?.code, 'LIVESTEM_ERR_BAD_MESSAGE');
  t.match(garbage.json.error?.message, /malformed SDP offer/);

  const noAudio = await post(`${SESSION}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n`);
  t.equal(noAudio.status, 400);
  t.match(noAudio.json.error?.message, /no audio track/);

  const recvOnly = await post(SESSION + audioSection('a=rtpmap:111 opus/48000/2\r\n', 'recvonly', '0'));
  t.equal(recvOnly.status, 400);
  t.match(recvOnly.json.error?.message, /no audio track the client sends/);

  const pcmu = await post(SESSION + audioSection('a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n', 'sendrecv', '0'));
  t.equal(pcmu.status, 415);
  t.equal(pcmu.json.error?.code, 'LIVESTEM_ERR_UNSUPPORTED_FORMAT');
  t.match(pcmu.json.error?.message, /pcmu\/8000.*needs opus\/48000\/2/);

  const tooFewReceivers = await post(SESSION + audioSection('a=rtpmap:111 opus/48000/2\r\n', 'sendrecv', '0'));
  t.equal(tooFewReceivers.status, 400);
  t.match(tooFewReceivers.json.error?.message, /receive 1 audio track\(s\) but 2 output\(s\)/);

  const badOutputs = await post(SESSION + audioSection('a=rtpmap:111 opus/48000/2\r\n', 'sendrecv', '0'), '?outputs=drums');
  t.equal(badOutputs.status, 400);
  t.match(badOutputs.json.error?.message, /"drums" is not one of/);

  const unknownModel = await post(SESSION + audioSection('a=rtpmap:111 opus/48000/2\r\n', 'sendrecv', '0'), '?outputs=karaoke&model=nope');
  t.equal(unknownModel.status, 404);
  t.equal(unknownModel.json.error?.code, 'LIVESTEM_ERR_UNKNOWN_MODEL');

  const del = await fetch(`${base}/v1/webrtc/does-not-exist`, { method: 'DELETE' });
  t.equal(del.status, 410);
  const get = await fetch(`${base}/v1/webrtc`);
  t.equal(get.status, 404);

  t.equal(await metricValue(server, 'livestem_webrtc_signalling_errors_total', 'code="LIVESTEM_ERR_BAD_MESSAGE"'), 5);
  t.equal(server.registry.activeCount, 0, 'no session left behind by refused offers');
});

/** A werift client: one sendonly Opus track with a test tone, two recvonly outputs, the events DataChannel. */
async function clientPeer(): Promise<{
  pc: RTCPeerConnection;
  dc: RTCDataChannel;
  events: { type: string; [k: string]: unknown }[];
  received: Map<string, Float32Array[]>;
  offer: string;
  startSending(): void;
  stopSending(): void;
  mids: string[];
}> {
  // max-bundle: a werift offerer otherwise keeps the unbundled m-lines' UDP sockets open after close().
  const pc = new RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, bundlePolicy: 'max-bundle' });
  const dc: RTCDataChannel = pc.createDataChannel('events');
  const events: { type: string; [k: string]: unknown }[] = [];
  dc.onMessage.subscribe((data) => events.push(JSON.parse(String(data)) as { type: string }));
  const mic = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(mic, { direction: 'sendonly' });
  const outs = [pc.addTransceiver('audio', { direction: 'recvonly' }), pc.addTransceiver('audio', { direction: 'recvonly' })];
  const received = new Map<string, Float32Array[]>();
  for (const transceiver of outs) {
    const decoder = new OpusDecoder({ channels: 2 });
    await decoder.ready;
    transceiver.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => {
        const mid = transceiver.mid ?? '?';
        const decoded = decoder.decodeFrame(rtp.payload);
        received.set(mid, [...(received.get(mid) ?? []), decoded.channelData[0]!]);
      }),
    );
  }
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
  const encoder = new OpusFrameEncoder();
  let timer: NodeJS.Timeout | undefined;
  let seq = 1000;
  let n = 0;
  return {
    pc,
    dc,
    events,
    received,
    offer: pc.localDescription!.sdp,
    mids: outs.map((o) => o.mid ?? '?'),
    startSending() {
      timer = setInterval(() => {
        const frame = [new Float32Array(960), new Float32Array(960)];
        for (let i = 0; i < 960; i++, n++) frame[0]![i] = frame[1]![i] = 0.3 * Math.sin((2 * Math.PI * 440 * n) / 48000);
        mic.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: n }), encoder.encode(frame)));
      }, 20);
    },
    stopSending() {
      clearInterval(timer);
    },
  };
}

const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function connectClient(query = ''): Promise<{ client: Awaited<ReturnType<typeof clientPeer>>; location: string }> {
  const client = await clientPeer();
  const res = await fetch(`${base}/v1/webrtc${query}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: client.offer });
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  const location = res.headers.get('location') ?? '';
  await client.pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return { client, location };
}

const udpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

const rms = (chunks: Float32Array[] | undefined): number => {
  let sum = 0;
  let n = 0;
  for (const c of chunks ?? []) for (const x of c) (sum += x * x), n++;
  return n === 0 ? 0 : Math.sqrt(sum / n);
};

t.test('a werift peer streams Opus in, gets two tracks + events back, DELETE frees the session', async (t) => {
  const endedBefore = await metricValue(server, 'livestem_webrtc_peers_ended_total', 'reason="deleted"');
  const { client, location } = await connectClient();
  t.match(location, /^\/v1\/webrtc\/[A-Za-z0-9_-]{32}$/, 'resource is a 192-bit base64url secret');
  t.equal(gateway.activeStreams, 1);
  client.startSending();
  await waitFor('50 packets on each output track', () => client.mids.every((mid) => (client.received.get(mid)?.length ?? 0) >= 50));
  await waitFor('vad and stats events', () => client.events.some((e) => e.type === 'vad') && client.events.some((e) => e.type === 'stats'));
  const ready = client.events.find((e) => e.type === 'ready') as { latency: { samples: number }; input: { sampleRateHz: number; channels: number }; outputMids: Record<string, string> } | undefined;
  t.ok(ready, 'ready arrives on the DataChannel');
  t.equal(ready?.input.sampleRateHz, 48000);
  t.equal(ready?.input.channels, 2);
  t.same(ready?.outputMids, { vocals: client.mids[0], accompaniment: client.mids[1] }, 'outputs in offer order');
  for (const mid of client.mids) t.ok(rms(client.received.get(mid)?.slice(-25)) > 1e-3, `output track ${mid} carries audio`);
  const stats = client.events.filter((e) => e.type === 'stats').at(-1) as unknown as { inputSamples: number; rtc: RtcTransportStats };
  t.ok(stats.rtc.packetsReceived > 0 && stats.inputSamples > 0, 'server decoded the input');
  // The pacer's own accounting is exposed: slots, late and trimmed frames, and the delay it added.
  t.equal(stats.rtc.packetsSent, 2 * stats.rtc.outputSlots, 'one packet per track per output slot');
  t.ok(stats.rtc.lateFrames >= 0 && stats.rtc.lateFrames <= stats.rtc.outputSlots, `late output slots counted (${stats.rtc.lateFrames} of ${stats.rtc.outputSlots})`);
  t.ok(stats.rtc.trimmedFrames <= stats.rtc.droppedFrames, 'trimmed frames are part of the dropped ones');
  t.ok(stats.rtc.pacerWaitMs.mean >= 0 && stats.rtc.pacerWaitMs.max >= stats.rtc.pacerWaitMs.mean, `pacer wait reported (mean ${stats.rtc.pacerWaitMs.mean} ms)`);

  const del = await fetch(`${base}${location}`, { method: 'DELETE' });
  t.equal(del.status, 200);
  await waitFor('session released', () => gateway.activeStreams === 0 && server.registry.activeCount === 0);
  t.equal(await metricValue(server, 'livestem_webrtc_peers_ended_total', 'reason="deleted"'), endedBefore + 1);
  t.equal(await metricValue(server, 'livestem_webrtc_peers_active'), 0);
  client.stopSending();
  await client.pc.close();
});

t.test('a peer that vanishes mid-stream is ended after the stall timeout and its session freed', async (t) => {
  const { client } = await connectClient('?outputs=karaoke,vocals&vocalGain=0.3');
  client.startSending();
  await waitFor('input flowing', () => client.events.some((e) => e.type === 'stats' && (e as unknown as { inputSamples: number }).inputSamples > 9600));
  t.equal(server.registry.activeCount, 1);
  client.dc.send(JSON.stringify({ type: 'configure', vocalGain: 0.7 }));
  client.dc.send(JSON.stringify({ type: 'configure', outputs: ['vocals'] }));
  await waitFor('configured and error events', () => client.events.some((e) => e.type === 'configured') && client.events.some((e) => e.type === 'error'));
  t.equal(client.events.find((e) => e.type === 'configured')?.['vocalGain'], 0.7, 'vocal level changed over the DataChannel');
  t.match(client.events.find((e) => e.type === 'error')?.['message'], /outputs are fixed by the SDP/, 'track-changing configure refused, session kept');
  t.equal(server.registry.activeCount, 1);
  // Vanish: no more RTP, no DELETE, no DTLS close — like a tab killed or a network gone.
  client.stopSending();
  await waitFor('stall detected', async () => (await metricValue(server, 'livestem_webrtc_peers_ended_total', 'reason="stalled"')) === 1);
  await waitFor('session freed', () => server.registry.activeCount === 0 && gateway.activeStreams === 0);
  t.equal(await metricValue(server, 'livestem_webrtc_peers_active'), 0);
  t.ok((await metricValue(server, 'livestem_sessions_ended_total', 'outcome="abandoned"')) >= 1, 'session engine counted it ended');
  // The notice leaves over SCTP just before the peer closes: on a loaded machine it can land after the session is freed.
  await waitFor('closed notice', () => client.events.some((e) => e.type === 'closed'), 3000).catch(() => undefined);
  t.ok(client.events.some((e) => e.type === 'closed' && e['reason'] === 'stalled'), 'the client was told why, if it could still hear');
  await client.pc.close();
  await waitFor('every UDP socket closed (server peer and client)', () => udpSockets() === 0, 5000);
  t.equal(udpSockets(), 0, 'no UDP socket left open');
});

t.test('the same offer/answer as a control-channel message', async (t) => {
  const bad = await gateway.answerControlMessage('{"type":"webrtc-offer"}', 'test');
  t.equal(bad.type, 'error');
  t.match(bad.type === 'error' ? bad.message : '', /invalid webrtc-offer at "sdp"/);
  const client = await clientPeer();
  const reply = await gateway.answerControlMessage(JSON.stringify({ type: 'webrtc-offer', sdp: client.offer, outputs: ['vocals', 'accompaniment'], vocalGain: 0 }), 'test');
  if (reply.type !== 'webrtc-answer') throw new Error(`expected an answer, got ${JSON.stringify(reply)}`);
  t.match(reply.resource, /^\/v1\/webrtc\//);
  t.match(reply.sdp, /a=sendonly/);
  await client.pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
  client.startSending();
  await waitFor('audio back', () => client.mids.every((mid) => (client.received.get(mid)?.length ?? 0) >= 10));
  t.ok(gateway.delete(reply.resource.split('/').at(-1)!), 'ended by its resource');
  await waitFor('session released', () => server.registry.activeCount === 0);
  client.stopSending();
  await client.pc.close();
});

t.test('a webrtc-offer as the first message of a /v1/stream WebSocket is answered there, then the socket closes', async (t) => {
  const { default: WebSocket } = await import('ws');
  type Reply = { type: string; sdp?: string; resource?: string; code?: string };
  /** One signalling socket: sends `message` first, resolves with the reply and the close code. */
  const signal = async (message: unknown): Promise<{ reply: Reply | undefined; closeCode: number }> => {
    const ws = new WebSocket(server.streamUrl);
    let reply: Reply | undefined;
    ws.on('message', (data) => (reply ??= JSON.parse(String(data)) as Reply));
    ws.on('open', () => ws.send(JSON.stringify(message)));
    const closeCode = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    return { reply, closeCode };
  };
  const bad = await signal({ type: 'webrtc-offer', sdp: 'not sdp' });
  t.equal(bad.reply?.type, 'error');
  t.equal(bad.reply?.code, 'LIVESTEM_ERR_BAD_MESSAGE', 'malformed SDP refused with the catalog code');
  t.equal(bad.closeCode, 4400, 'then closed with that error\'s close code');
  const client = await clientPeer();
  const good = await signal({ type: 'webrtc-offer', sdp: client.offer, outputs: ['vocals', 'accompaniment'] });
  const answer = good.reply!;
  t.equal(answer.type, 'webrtc-answer');
  t.equal(good.closeCode, 1000, 'a signalling socket closes normally after its answer');
  await client.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp ?? '' });
  client.startSending();
  await waitFor('audio back on both tracks', () => client.mids.every((mid) => (client.received.get(mid)?.length ?? 0) >= 10));
  const del = await fetch(`${base}${answer.resource ?? ''}`, { method: 'DELETE' });
  t.equal(del.status, 200, 'the stream outlives the socket; its resource URL ends it');
  await waitFor('session released', () => server.registry.activeCount === 0);
  client.stopSending();
  await client.pc.close();
});
