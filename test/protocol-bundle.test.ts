/**
 * Output bundles (`start.outputFraming: 'bundles'`): the bytes of the documented layout, round trips, rejection of
 * corrupt bundles, and what the WebSocket transport puts on the wire in each framing.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import {
  BUNDLE_HEADER_BYTES,
  BUNDLE_VERSION,
  FRAME_VERSION,
  FrameDecodeError,
  decodeAudioFrame,
  decodeOutputBundle,
  encodeAudioFrame,
  encodeOutputBundle,
  outputMessageVersion,
  type VadMessage,
} from '../client-sdk/src/protocol/index.ts';
import { startMessage } from '../client-sdk/src/handshake.ts';
import { decodeOutputMessage } from '../client-sdk/src/output-chunk.ts';
import type { DeliveredOutput, OutputWire } from '../server/session/connection.ts';
import { encodeWsOutput } from '../server/transport/ws/ws-output.ts';

const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

t.test('bundle header: exact bytes of the documented layout', async (t) => {
  const bytes = encodeOutputBundle({
    format: 's16le',
    sequence: 7,
    sampleOffset: 1024,
    sampleRateHz: 16000,
    streams: [
      { kind: 'vocals', samples: [Float32Array.of(0.5, -0.5)] },
      { kind: 'karaoke', samples: [Float32Array.of(0.25, 1)] },
    ],
    vad: { sampleOffset: 1000, hopSamples: 128, probs: [0.5, 1, 0.25], active: true },
  });
  const vadBytes = 16; // 3 × f32 padded to 8
  t.equal(bytes.byteLength, BUNDLE_HEADER_BYTES + vadBytes + 2 * 2 * 2, '48-byte header, VAD padded to 8, two kinds × 2 samples × s16');
  const header = [
    ...[2, 2, 1, 1], // version, streams, format s16le, channels
    ...u32(7),
    ...[0, 4, 0, 0, 0, 0, 0, 0], // sampleOffset u64 = 1024
    ...u32(2), // sampleCount
    ...u32(16000),
    ...[1, 3, 0], // kinds: vocals, karaoke
    3, // flags: VAD present, active
    ...u32(3), // vadCount
    ...[0, 0, 0, 0, 0, 0, 0x60, 0x40], // f64 128
    ...u32(-24 >>> 0), // vadOffset = 1000 − 1024
    ...u32(0),
  ];
  t.same([...bytes.subarray(0, BUNDLE_HEADER_BYTES)], header);
  t.same([...bytes.subarray(48, 64)], [0, 0, 0, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3e, 0, 0, 0, 0], 'f32 probabilities 0.5, 1, 0.25, zero padding');
  t.same([...bytes.subarray(64)], [0x00, 0x40, 0x00, 0xc0, 0x00, 0x20, 0xff, 0x7f], 'vocals then karaoke, s16le (1.0 clips to 32767)');
  t.equal(outputMessageVersion(bytes), BUNDLE_VERSION);
});

t.test('round trip: every kind, f32 exact, negative VAD offset, no VAD, no samples', async (t) => {
  const l = Float32Array.from([0, 0.5, -0.25, 1.5, -2, 0.123456]);
  const r = l.map((v) => -v);
  const streams = [
    { kind: 'vocals' as const, samples: [l, r] },
    { kind: 'accompaniment' as const, samples: [r, l] },
    { kind: 'karaoke' as const, samples: [l, l] },
  ];
  const vad = { sampleOffset: 2 ** 40 - 5, hopSamples: 278.63945578231295, probs: [0.1, 0.9].map(Math.fround), active: false };
  const b = decodeOutputBundle(encodeOutputBundle({ format: 'f32le', sequence: 2 ** 32 - 1, sampleOffset: 2 ** 40, sampleRateHz: 48000, streams, vad }));
  t.same(b, { format: 'f32le', channels: 2, sequence: 2 ** 32 - 1, sampleOffset: 2 ** 40, sampleCount: 6, sampleRateHz: 48000, streams, vad });
  const bare = decodeOutputBundle(encodeOutputBundle({ format: 's16le', channels: 2, sequence: 0, sampleOffset: 0, sampleRateHz: 8000, streams: [], vad: undefined }));
  t.same(bare.streams, []);
  t.equal(bare.vad, undefined);
  t.equal(bare.channels, 2);
});

t.test('bundle decode rejects truncated, unknown and inconsistent bundles, and frames', async (t) => {
  const good = encodeOutputBundle({ format: 's16le', sequence: 0, sampleOffset: 0, sampleRateHz: 8000, streams: [{ kind: 'vocals', samples: [new Float32Array(4)] }], vad: undefined });
  t.throws(() => decodeOutputBundle(good.subarray(0, 40)), FrameDecodeError);
  t.throws(() => decodeOutputBundle(good.subarray(0, good.length - 2)), FrameDecodeError);
  const badKind = Uint8Array.from(good);
  badKind[24] = 9;
  t.throws(() => decodeOutputBundle(badKind), /unknown stream kind 9/);
  const tooMany = Uint8Array.from(good);
  tooMany[1] = 4;
  t.throws(() => decodeOutputBundle(tooMany), FrameDecodeError);
  const frame = encodeAudioFrame({ kind: 'vocals', format: 's16le', sequence: 0, sampleOffset: 0, sampleRateHz: 8000 }, [new Float32Array(4)]);
  t.equal(outputMessageVersion(frame), FRAME_VERSION);
  t.throws(() => decodeOutputBundle(frame), /not a bundle/);
  t.throws(() => encodeOutputBundle({ format: 'f32le', sequence: 0, sampleOffset: 0, sampleRateHz: 8000, streams: [{ kind: 'vocals', samples: [new Float32Array(2)] }, { kind: 'karaoke', samples: [new Float32Array(3)] }], vad: undefined }), RangeError);
});

function wire(framing: OutputWire['framing']): OutputWire & { sequences: number } {
  const w = { format: 'f32le' as const, sampleRateHz: 16000, channels: 1, framing, sequences: 0, nextSequence: () => w.sequences++ };
  return w;
}

const vadOf = (transitions: VadMessage['transitions']): VadMessage => ({ type: 'vad', sampleOffset: 300, hopSamples: 128, probs: [0.2, 0.8], active: transitions.length > 0, transitions });
const span = (vad: VadMessage | undefined): DeliveredOutput => ({
  sampleOffset: 256,
  sampleCount: 3,
  streams: [
    { kind: 'vocals', samples: [Float32Array.of(0.1, 0.2, 0.3)] },
    { kind: 'accompaniment', samples: [Float32Array.of(-0.1, -0.2, -0.3)] },
  ],
  vad,
});

t.test('WebSocket wire, frames: one frame per kind, then the JSON vad message', async (t) => {
  const w = wire('frames');
  const messages = encodeWsOutput(span(vadOf([])), w);
  t.equal(messages.length, 3);
  const [a, b, c] = messages;
  t.ok(a && 'binary' in a && b && 'binary' in b && c && 'text' in c);
  if (!(a && 'binary' in a && b && 'binary' in b && c && 'text' in c)) return;
  t.match(decodeAudioFrame(a.binary), { kind: 'vocals', sequence: 0, sampleOffset: 256, sampleCount: 3 });
  t.match(decodeAudioFrame(b.binary), { kind: 'accompaniment', sequence: 1, sampleOffset: 256 });
  t.same(JSON.parse(c.text), vadOf([]));
});

t.test('WebSocket wire, bundles: one binary message per interval; JSON vad only with a transition, ahead of it', async (t) => {
  const w = wire('bundles');
  const quiet = encodeWsOutput(span(vadOf([])), w);
  t.equal(quiet.length, 1, 'no transition: the bundle alone');
  const only = quiet[0]!;
  t.ok('binary' in only);
  if (!('binary' in only)) return;
  const b = decodeOutputBundle(only.binary);
  t.same(b.streams.map((s) => s.kind), ['vocals', 'accompaniment']);
  t.same(b.vad, { sampleOffset: 300, hopSamples: 128, probs: [Math.fround(0.2), Math.fround(0.8)], active: false });
  t.equal(b.sequence, 0);
  const changed = encodeWsOutput(span(vadOf([{ active: true, sampleOffset: 428 }])), w);
  t.same(changed.map((m) => ('text' in m ? 'text' : 'binary')), ['text', 'binary'], 'the transition goes first');
  const first = changed[0]!;
  t.match('text' in first ? JSON.parse(first.text) : undefined, { type: 'vad', transitions: [{ active: true, sampleOffset: 428 }] });
  const second = changed[1]!;
  t.equal('binary' in second ? decodeOutputBundle(second.binary).sequence : -1, 1, 'one sequence number per bundle');
  t.same(encodeWsOutput({ sampleOffset: 0, sampleCount: 0, streams: [], vad: undefined }, w), [], 'nothing to say: nothing sent');
});

t.test('SDK: asks for bundles by default, and decodes a bundle into the chunks and VAD the per-kind framing gives', async (t) => {
  t.equal(startMessage({ sampleRate: 16000, channels: 1 }).outputFraming, 'bundles');
  t.equal(startMessage({ sampleRate: 16000, channels: 1, outputFraming: 'frames' }).outputFraming, 'frames');
  const out = span(vadOf([]));
  const [bundle] = encodeWsOutput(out, wire('bundles'));
  const frames = encodeWsOutput(out, wire('frames')).flatMap((m) => ('binary' in m ? [decodeOutputMessage(m.binary)] : []));
  if (!bundle || !('binary' in bundle)) return t.fail('no bundle');
  const decoded = decodeOutputMessage(bundle.binary);
  t.same(
    decoded.chunks.map(({ sequence: _s, ...c }) => c),
    frames.flatMap((f) => f.chunks).map(({ sequence: _s, ...c }) => c),
    'the same chunks (kind, offset, rate, samples)',
  );
  t.same(decoded.vad, { ...vadOf([]), probs: vadOf([]).probs.map(Math.fround), transitions: [] });
});

t.test('docs/protocol.md documents the bundle layout the codec writes', async (t) => {
  const doc = await readFile(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('### Output bundles'), doc.indexOf('### `vad`'));
  t.match(section, `${BUNDLE_HEADER_BYTES}-byte header`);
  t.match(section, `\`frameVersion\` = ${BUNDLE_VERSION}`);
  const offsets = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  t.same(offsets, [0, 1, 2, 3, 4, 8, 16, 20, 24, 27, 28, 32, 40, 44, 48], 'every header field, at the offsets the codec uses');
  t.match(doc, /"outputFraming": "bundles"/, 'the start example shows the option');
});
