/**
 * SDP offers for the signalling routes (POST /v1/webrtc and the `webrtc-offer` message): garbage that must be refused
 * with a catalog error, and "bombs" that pass the server's own inspection (they are well-formed audio/Opus offers)
 * but ask for hundreds of m-sections, or leave out BUNDLE / the DTLS fingerprint / ICE credentials, so that all the
 * work lands on the WebRTC stack. Either must be answered quickly, without stalling everyone else's audio.
 */
import type { Rng } from './rng.ts';

const CRLF = '\r\n';

function fingerprint(rng: Rng): string {
  return Array.from(rng.bytes(32), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

interface OfferShape {
  sections: number;
  bundle: boolean;
  fingerprint: boolean;
  ice: boolean;
  /** rtpmap lines per section (payload types 96..). */
  codecsPerSection: number;
  /** ICE credentials and fingerprint once at session level (smaller sections: more of them fit in 64 KiB). */
  sessionLevel?: boolean;
}

/** A syntactically valid audio offer: section 0 sends, the others receive (one per requested output). */
export function audioOffer(rng: Rng, shape: OfferShape): string {
  const mids = Array.from({ length: shape.sections }, (_, i) => String(i));
  const lines = ['v=0', `o=- ${rng.int(1, 2 ** 31)} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0'];
  if (shape.bundle) lines.push(`a=group:BUNDLE ${mids.join(' ')}`);
  lines.push('a=msid-semantic: WMS');
  const ufrag = rng.string(8);
  const pwd = rng.string(24);
  const fp = fingerprint(rng);
  const security = [...(shape.ice ? [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`] : []), ...(shape.fingerprint ? [`a=fingerprint:sha-256 ${fp}`] : [])];
  if (shape.sessionLevel) lines.push(...security, 'a=setup:actpass');
  for (let i = 0; i < shape.sections; i++) {
    const pts = [111, ...Array.from({ length: shape.codecsPerSection - 1 }, (_, k) => 96 + (k % 31))];
    lines.push(`m=audio 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`, 'c=IN IP4 0.0.0.0');
    if (!shape.sessionLevel) lines.push('a=rtcp:9 IN IP4 0.0.0.0', ...security, 'a=setup:actpass');
    lines.push(`a=mid:${i}`, i === 0 ? 'a=sendonly' : 'a=recvonly', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2');
    if (!shape.sessionLevel) lines.push('a=fmtp:111 minptime=10;useinbandfec=1');
    for (let k = 1; k < shape.codecsPerSection; k++) lines.push(`a=rtpmap:${96 + (k % 31)} opus/48000/2`);
  }
  return lines.join(CRLF) + CRLF;
}

export interface SdpSample {
  variant: string;
  sdp: string;
  /** Passes the server's offer inspection: the WebRTC stack itself gets it (answer or its own refusal). */
  wellFormed: boolean;
}

const GARBAGE: ReadonlyArray<(rng: Rng) => string> = [
  () => '',
  () => 'v=0',
  () => 'v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/AVP 0\r\n',
  () => 'hello world',
  (rng) => Buffer.from(rng.bytes(rng.int(1, 2000))).toString('latin1'),
  () => 'v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n', // no o=
  () => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio\r\n', // m-line without port/proto/formats
  () => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/AVP 111\r\na=rtpmap:oops\r\n',
  () => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n', // no audio
  () => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=sendonly\r\na=rtpmap:0 PCMU/8000\r\n', // no Opus
  () => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n', // nothing sent
  (rng) => `v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n${'a=x\r\n'.repeat(rng.int(1000, 12000))}`,
  (rng) => `v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\na=${'x'.repeat(rng.int(1000, 60000))}\r\n`,
  (rng) => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n' + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n'.repeat(rng.int(100, 1500)), // sections, no codecs
  () => 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=mid:\u0000\r\n',
  () => 'v=0\no=- 1 1 IN IP4 0.0.0.0\nm=audio 99999999999 UDP/TLS/RTP/SAVPF 111\na=sendrecv\na=rtpmap:111 opus/48000/2\n',
];

/** Over the 64 KiB offer limit (route and message both cap offers there). */
export function oversizeSdp(rng: Rng): string {
  return audioOffer(rng, { sections: 3, bundle: true, fingerprint: true, ice: true, codecsPerSection: 1 }) + `a=pad:${'x'.repeat(70_000)}\r\n`;
}

export function sampleSdp(rng: Rng): SdpSample {
  const kind = rng.weighted([
    ['garbage', 5],
    ['bomb', 3],
    ['stripped', 2],
    ['oversize', 1],
  ] as const);
  if (kind === 'garbage') {
    const i = rng.int(0, GARBAGE.length - 1);
    return { variant: `garbage-${i}`, sdp: GARBAGE[i]!(rng), wellFormed: false };
  }
  if (kind === 'oversize') return { variant: 'oversize', sdp: oversizeSdp(rng), wellFormed: false };
  if (kind === 'bomb') {
    // Hundreds of m-sections within the 64 KiB limit; half of them without BUNDLE (one transport per section).
    const bundle = rng.chance(0.5);
    let sections = rng.int(150, 500);
    let sdp = '';
    do {
      sdp = audioOffer(rng, { sections, bundle, fingerprint: true, ice: true, codecsPerSection: 1, sessionLevel: true });
      sections = Math.floor(sections * 0.9);
    } while (sdp.length > 63 * 1024);
    return { variant: `bomb-${bundle ? 'bundle' : 'nobundle'}`, sdp, wellFormed: true };
  }
  const missing = rng.pick(['fingerprint', 'bundle', 'ice', 'codecs'] as const);
  const sdp = audioOffer(rng, {
    sections: rng.int(2, 4),
    bundle: missing !== 'bundle',
    fingerprint: missing !== 'fingerprint',
    ice: missing !== 'ice',
    codecsPerSection: missing === 'codecs' ? rng.int(200, 400) : 1,
  });
  return { variant: `no-${missing}`, sdp, wellFormed: true };
}
