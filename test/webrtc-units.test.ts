/**
 * Pure pieces of the WebRTC path and the SDK, without network: SDP offer inspection, RTP reordering with loss
 * accounting, 20 ms framing with its bounded queue, an Opus encode → decode round trip with concealment of a lost
 * packet, the stereo fmtp rewrite, the SDK's frame decoder against the server's encoder, and bounded iterators.
 */
import t from 'tap';
import { decodeOutputFrame, encodePcm as sdkEncodePcm, LivestemClientError, TypedEvents } from '../client-sdk/src/index.ts';
import { preferStereoOpus } from '../client-sdk/src/webrtc.ts';
import { LivestemError } from '../server/errors.ts';
import { encodeAudioFrame, encodePcm } from '../client-sdk/src/protocol/index.ts';
import { FRAME_SAMPLES, FrameQueue, OpusFrameEncoder } from '../server/transport/webrtc/opus-egress.ts';
import { OpusIngest } from '../server/transport/webrtc/opus-ingest.ts';
import { RtpReorderBuffer, seqDiff } from '../server/transport/webrtc/rtp-reorder.ts';
import { inspectOffer } from '../server/transport/webrtc/sdp-offer.ts';

const FP = 'a=fingerprint:sha-256 AB:CD:EF:01';
const bundle = (...mids: string[]): string => `a=group:BUNDLE ${mids.join(' ')}\r\n`;
const HEAD = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
/** Session part of a bundled offer with a session-level fingerprint. */
const head = (...mids: string[]): string => `${HEAD}${bundle(...mids)}${FP}\r\n`;
const audio = (mid: string, dir: string, codecs = 'a=rtpmap:111 opus/48000/2\r\n'): string => `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:${mid}\r\na=${dir}\r\n${codecs}`;

t.test('SDP offer inspection', async (t) => {
  const ok = inspectOffer(head('a', 'b', 'c', 'd') + audio('a', 'sendonly') + audio('b', 'recvonly') + audio('c', 'recvonly') + 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d\r\n', 2);
  t.equal(ok.input.mid, 'a');
  t.same(
    ok.receivers.map((s) => s.mid),
    ['b', 'c'],
  );
  t.equal(ok.hasDataChannel, true);
  const sendrecv = inspectOffer(head('0') + audio('0', 'sendrecv'), 1);
  t.equal(sendrecv.input, sendrecv.receivers[0], 'one sendrecv section is both input and the single output');
  const sessionLevel = inspectOffer(head('0') + 'a=sendonly\r\n' + 'm=audio 9 RTP/AVP 111\r\na=mid:0\r\na=rtpmap:111 OPUS/48000/2\r\n', 0);
  t.equal(sessionLevel.input.direction, 'sendonly', 'session-level direction applies; codec names are case-insensitive');

  const fail = (sdp: string, outputs: number): LivestemError => {
    try {
      inspectOffer(sdp, outputs);
    } catch (err) {
      if (err instanceof LivestemError) return err;
      throw err;
    }
    throw new Error('accepted');
  };
  t.equal(fail('', 1).code, 'LIVESTEM_ERR_BAD_MESSAGE');
  t.match(fail('v=0\r\nthis is not sdp\r\n', 1).message, /is not <type>=<value>/);
  t.match(fail('v=0\r\ns=-\r\n', 1).message, /no o= line/);
  t.match(fail(HEAD, 1).message, /no m= section/);
  t.match(fail(HEAD + 'm=audio 9\r\n', 1).message, /needs media, port/);
  t.equal(fail(head('0') + audio('0', 'sendonly', 'a=rtpmap:0 PCMU/8000\r\n'), 0).httpStatus, 415);
  t.equal(fail(head('0') + audio('0', 'inactive'), 0).httpStatus, 400);
  t.equal(fail('v=0\r\n' + 'a=x\r\n'.repeat(20000), 1).code, 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE');
});

t.test('SDP offer limits, BUNDLE and DTLS fingerprint are checked before anything else', async (t) => {
  const fail = (sdp: string): LivestemError => {
    try {
      inspectOffer(sdp, 1);
    } catch (err) {
      if (err instanceof LivestemError) return err;
      throw err;
    }
    throw new Error('accepted');
  };
  const mids = Array.from({ length: 8 }, (_, i) => String(i));
  const eight = head(...mids) + audio('0', 'sendrecv') + mids.slice(1).map((m) => audio(m, 'recvonly')).join('');
  t.equal(inspectOffer(eight, 3).sections.length, 8, '8 m-sections (the contract needs 5) are accepted');
  const nine = fail(head(...mids, '8') + audio('0', 'sendrecv') + [...mids.slice(1), '8'].map((m) => audio(m, 'recvonly')).join(''));
  t.equal(nine.code, 'LIVESTEM_ERR_BAD_MESSAGE');
  t.match(nine.message, /9 m-sections; at most 8/);
  // Checked by counting lines, before parsing: a 9th m-line that is not even valid is still refused for the count.
  t.match(fail(eight + 'm=x\r\n').message, /9 m-sections/);

  const candidates = (n: number): string => Array.from({ length: n }, (_, i) => `a=candidate:${i} 1 udp 1 10.0.0.${i % 250} 9 typ host\r\n`).join('');
  t.equal(inspectOffer(head('0') + audio('0', 'sendrecv', `a=rtpmap:111 opus/48000/2\r\n${candidates(128)}`), 1).sections.length, 1, '128 candidates pass');
  t.match(fail(head('0') + audio('0', 'sendrecv', `a=rtpmap:111 opus/48000/2\r\n${candidates(129)}`)).message, /129 a=candidate lines; at most 128/);

  const multiByte = fail(head('0') + audio('0', 'sendrecv') + `a=x:${'é'.repeat(16 * 1024)}\r\n`);
  t.equal(multiByte.code, 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE', 'the limit is in UTF-8 bytes, not characters');

  t.match(fail(HEAD + FP + '\r\n' + audio('0', 'sendrecv')).message, /no a=group:BUNDLE/);
  t.match(fail(head('0') + audio('0', 'sendrecv') + audio('1', 'recvonly')).message, /BUNDLE leaves out mid 1/);
  t.match(fail(HEAD + bundle('0') + bundle('1') + FP + '\r\n' + audio('0', 'sendrecv') + audio('1', 'recvonly')).message, /2 BUNDLE groups/);
  t.match(fail(head('0') + 'm=audio 9 RTP/AVP 111\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n').message, /m-section 0 has no a=mid/);
  t.match(fail(head('0') + audio('0', 'sendrecv') + audio('0', 'recvonly')).message, /repeats a=mid:0/);

  const noFp = fail(HEAD + bundle('0', '1') + audio('0', 'sendrecv') + audio('1', 'recvonly'));
  t.match(noFp.message, /DTLS fingerprint required/);
  const mediaFp = (mid: string): string => audio(mid, mid === '0' ? 'sendrecv' : 'recvonly', `a=rtpmap:111 opus/48000/2\r\n${FP}\r\n`);
  t.equal(inspectOffer(HEAD + bundle('0', '1') + mediaFp('0') + mediaFp('1'), 2).receivers.length, 2, 'media-level fingerprints in every section pass');
  t.match(fail(HEAD + bundle('0', '1') + mediaFp('0') + audio('1', 'recvonly')).message, /DTLS fingerprint required: SDP offer m-section 1/);
  t.match(fail(head('0') + audio('0', 'sendrecv', 'a=rtpmap:111 opus/48000/2\r\na=fingerprint:sha-256 nothex\r\n')).message, /bad fingerprint/);

  const long = 'y'.repeat(20_000);
  for (const sdp of [`${HEAD}m=audio 9 X 1\r\na=rtpmap:${long}\r\n`, `${HEAD}m=${long}\r\n`, `${head('0')}m=audio 9 X 1\r\na=mid:0\r\na=fingerprint:${long}\r\n`]) {
    const err = fail(sdp);
    t.ok(err.message.length < 200 && !err.message.includes('y'.repeat(101)), `bounded message (${err.message.length} chars)`);
  }
});

t.test('RTP reorder buffer: in order, reordered, lost, late, wrapped, jumped', async (t) => {
  t.equal(seqDiff(2, 65535), 3);
  t.equal(seqDiff(65535, 2), -3);
  const buf = new RtpReorderBuffer<number>(3);
  const seqs = (items: ReturnType<typeof buf.push>): string =>
    items.map((i) => (i.kind === 'packet' ? String(i.sequence) : `-${i.count}`)).join(',');
  t.equal(seqs(buf.push(65534, 0)), '65534');
  t.equal(seqs(buf.push(65535, 0)), '65535');
  t.equal(seqs(buf.push(1, 0)), '', 'seq 0 missing: 1 is held');
  t.equal(seqs(buf.push(0, 0)), '0,1', 'late arrival fills the gap, both released in order');
  t.equal(seqs(buf.push(3, 0)), '');
  t.equal(seqs(buf.push(4, 0)), '');
  t.equal(seqs(buf.push(5, 0)), '');
  t.equal(seqs(buf.push(6, 0)), '-1,3,4,5,6', 'hold limit reached: 2 declared lost');
  t.equal(seqs(buf.push(2, 0)), '', 'too late: dropped');
  t.equal(seqs(buf.push(6, 0)), '', 'duplicate: dropped');
  t.equal(seqs(buf.push(500, 0)), '-50,500', 'a jump resyncs with at most maxGap missing');
  t.same(buf.stats, { received: 11, reordered: 5, late: 2, missing: 51 }, 'held packets (1, 3, 4, 5, 6) count as reordered');
  t.equal(seqs(new RtpReorderBuffer<number>().flush()), '');
});

t.test('20 ms framing is chunk-size invariant and bounded', async (t) => {
  const q = new FrameQueue(4);
  const src = Float32Array.from({ length: 3 * FRAME_SAMPLES + 100 }, (_, i) => i);
  let pos = 0;
  for (const size of [1, 7, 959, 961, 500, 2000]) {
    const end = Math.min(src.length, pos + size);
    q.push([src.subarray(pos, end)]);
    pos = end;
  }
  t.equal(q.queuedFrames, 3);
  const frame = q.shift()!;
  t.equal(frame[0]![0], 0);
  t.equal(frame[1]![FRAME_SAMPLES - 1], FRAME_SAMPLES - 1, 'mono duplicated to both channels');
  t.equal(q.shift()![0]![0], FRAME_SAMPLES, 'frames are contiguous');
  q.push([new Float32Array(10 * FRAME_SAMPLES)]);
  t.equal(q.queuedFrames, 4, 'bounded');
  t.equal(q.droppedFrames, 7, 'oldest frames dropped and counted');
});

t.test('Opus round trip: encoder → ingest decodes, a lost packet becomes counted silence', async (t) => {
  const enc = new OpusFrameEncoder(128_000);
  const ingest = await OpusIngest.create(2);
  const out: Float32Array[][] = [];
  let n = 0;
  for (let seq = 0; seq < 20; seq++) {
    const frame = [new Float32Array(FRAME_SAMPLES), new Float32Array(FRAME_SAMPLES)];
    for (let i = 0; i < FRAME_SAMPLES; i++, n++) {
      frame[0]![i] = 0.5 * Math.sin((2 * Math.PI * 440 * n) / 48000);
      frame[1]![i] = 0.25 * Math.sin((2 * Math.PI * 660 * n) / 48000);
    }
    const packet = enc.encode(frame);
    if (seq === 10) continue; // lost
    out.push(...ingest.push(seq, packet));
  }
  const samples = out.reduce((s, c) => s + c[0]!.length, 0);
  t.equal(samples, 19 * FRAME_SAMPLES + FRAME_SAMPLES, 'the lost packet is replaced by one packet of silence');
  const stats = ingest.stats;
  t.equal(stats.concealedPackets, 1);
  t.equal(stats.decodedPackets, 19);
  const rms = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  const last = out.at(-1)!;
  t.ok(Math.abs(rms(last[0]!) - 0.5 / Math.SQRT2) < 0.05, `left channel level survives (${rms(last[0]!).toFixed(3)})`);
  t.ok(Math.abs(rms(last[1]!) - 0.25 / Math.SQRT2) < 0.05, `right channel is its own (${rms(last[1]!).toFixed(3)})`);
  const garbage = ingest.push(20, new Uint8Array([0xff, 0xff, 0xff]));
  t.equal(garbage[0]?.[0]?.length, FRAME_SAMPLES, 'an undecodable packet also becomes silence');
  t.equal(ingest.stats.decodeErrors, 1);
  ingest.free();
  enc.delete();
});

t.test('stereo fmtp rewrite for Chromium offers', async (t) => {
  const sdp = 'a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n';
  t.equal(preferStereoOpus(sdp), 'a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1\r\n');
  t.equal(preferStereoOpus(preferStereoOpus(sdp)), preferStereoOpus(sdp), 'idempotent');
});

t.test('SDK frame decoder reads the server encoder bytes; SDK PCM encoder matches the server', async (t) => {
  const samples = [Float32Array.from([0.5, -0.25, 1]), Float32Array.from([0, 0.125, -1])];
  for (const format of ['s16le', 'f32le'] as const) {
    const bytes = encodeAudioFrame({ kind: 'accompaniment', format, sequence: 7, sampleOffset: 2 ** 40, sampleRateHz: 44100 }, samples);
    const chunk = decodeOutputFrame(bytes);
    t.equal(chunk.kind, 'accompaniment');
    t.equal(chunk.sequence, 7);
    t.equal(chunk.sampleOffset, 2 ** 40);
    t.equal(chunk.sampleRateHz, 44100);
    t.same(Array.from(chunk.samples[1]!), [0, 0.125, -1]);
    t.same(sdkEncodePcm(samples, format), encodePcm(samples, format), `${format} input bytes identical to the server codec`);
  }
  t.throws(() => decodeOutputFrame(new Uint8Array(10)), /shorter than the 24-byte header/);
});

t.test('SDK iterators: ordered, ended by the source, bounded', async (t) => {
  const events = new TypedEvents<{ n: number }>();
  const it = events.iterate('n', 3);
  events.emit('n', 1);
  events.emit('n', 2);
  t.same(await it.next(), { value: 1, done: false });
  const pending = it.next();
  t.same(await pending, { value: 2, done: false });
  const waiting = it.next();
  events.emit('n', 3);
  t.same(await waiting, { value: 3, done: false });
  events.endIterators();
  t.same(await it.next(), { value: undefined, done: true });

  const src = new TypedEvents<{ n: number }>();
  const bounded = src.iterate('n', 2);
  for (let i = 0; i < 5; i++) src.emit('n', i);
  await t.rejects(bounded.next(), LivestemClientError);
  t.equal(src.listenerCount('n'), 0, 'an overflowed iterator unsubscribes');
});

// The output pacer's schedule: test/webrtc-pacer.test.ts (manual clock).
