import t from 'tap';
import { ERROR_CATALOG, ERROR_CODES, LivestemError } from '../server/errors.ts';
import { FRAME_HEADER_BYTES, FrameDecodeError, PcmDecodeError, decodeAudioFrame, decodePcm, encodeAudioFrame, encodePcm } from '../client-sdk/src/protocol/index.ts';
import { checkStartAudio, parseClientMessage, startMessageSchema } from '../server/protocol/messages.ts';

t.test('output frame header: exact bytes of the documented layout', async (t) => {
  const bytes = encodeAudioFrame(
    { kind: 'vocals', format: 'f32le', sequence: 4, sampleOffset: 512, sampleRateHz: 44100 },
    [new Float32Array(256), new Float32Array(256)],
  );
  t.equal(bytes.byteLength, 24 + 256 * 2 * 4);
  t.same(
    [...bytes.subarray(0, 24)],
    [1, 1, 2, 2, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x44, 0xac, 0, 0],
    'version, kind, format, channels, sequence u32, offset u64, count u32, rate u32 (docs/protocol.md example)',
  );
});

t.test('round trip: f32 exact, s16 to 1/32768 with clipping, large u64 offsets', async (t) => {
  const left = Float32Array.from([0, 0.5, -0.25, 1, -1, 1.5, -2, 0.123456]);
  const right = left.map((v) => -v);
  const f32 = decodeAudioFrame(encodeAudioFrame({ kind: 'karaoke', format: 'f32le', sequence: 2 ** 32 - 1, sampleOffset: 2 ** 40 + 3, sampleRateHz: 8000 }, [left, right]));
  t.same(f32.samples, [left, right]);
  t.equal(f32.sampleOffset, 2 ** 40 + 3);
  t.equal(f32.sequence, 2 ** 32 - 1);
  t.equal(f32.kind, 'karaoke');
  const s16 = decodeAudioFrame(encodeAudioFrame({ kind: 'accompaniment', format: 's16le', sequence: 0, sampleOffset: 0, sampleRateHz: 8000 }, [left]));
  t.same([...s16.samples[0]!], [0, 0.5, -0.25, 32767 / 32768, -1, 32767 / 32768, -1, Math.round(0.123456 * 32768) / 32768]);
});

t.test('s16le encode: the same little-endian bytes at even and odd buffer offsets (rounding, clipping, stereo order)', async (t) => {
  const left = Float32Array.from([0, 0.5, -0.5, 1, -1, 1.5, -2, 0.123456, -0.123456, 1.5 / 32768, -1.5 / 32768]);
  const right = left.map((v) => v / 3);
  const expected: number[] = [];
  for (let i = 0; i < left.length; i++) {
    for (const ch of [left, right]) {
      const v = Math.max(-32768, Math.min(32767, Math.round(ch[i]! * 32768)));
      expected.push(v & 0xff, (v >> 8) & 0xff);
    }
  }
  for (const offset of [0, 1, 8]) {
    const backing = new Uint8Array(offset + expected.length);
    const out = encodePcm([left, right], 's16le', backing.subarray(offset));
    t.same([...out], expected, `byte offset ${offset}`);
  }
});

t.test('frame decode rejects truncated, unknown and inconsistent frames', async (t) => {
  const good = encodeAudioFrame({ kind: 'vocals', format: 's16le', sequence: 0, sampleOffset: 0, sampleRateHz: 8000 }, [new Float32Array(4)]);
  t.throws(() => decodeAudioFrame(good.subarray(0, 10)), FrameDecodeError);
  t.throws(() => decodeAudioFrame(good.subarray(0, good.length - 2)), FrameDecodeError);
  const badKind = Uint8Array.from(good);
  badKind[1] = 9;
  t.throws(() => decodeAudioFrame(badKind), FrameDecodeError);
  t.equal(FRAME_HEADER_BYTES % 8, 0, 'payload stays 8-byte aligned');
});

t.test('PCM input: interleaved → planar, misaligned and non-finite rejected', async (t) => {
  const bytes = encodePcm([Float32Array.from([0.5, -0.5]), Float32Array.from([0.25, 1])], 'f32le');
  t.same(decodePcm(bytes, 'f32le', 2), [Float32Array.from([0.5, -0.5]), Float32Array.from([0.25, 1])]);
  const err = t.throws(() => decodePcm(new Uint8Array(6), 's16le', 2)) as PcmDecodeError;
  t.equal(err.reason, 'misaligned');
  const nan = new Float32Array([0, Number.NaN]);
  t.equal((t.throws(() => decodePcm(new Uint8Array(nan.buffer), 'f32le', 1)) as PcmDecodeError).reason, 'non-finite');
  const s16 = new Int16Array([-32768, 32767, 16384]);
  t.same([...decodePcm(new Uint8Array(s16.buffer), 's16le', 1)[0]!], [-1, 32767 / 32768, 0.5]);
});

t.test('client messages: schema errors are BAD_MESSAGE, audio parameters get their specific codes', async (t) => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return (err as LivestemError).code;
    }
    return undefined;
  };
  t.equal(code(() => parseClientMessage('nope')), 'LIVESTEM_ERR_BAD_MESSAGE');
  t.equal(code(() => parseClientMessage('{"type":"dance"}')), 'LIVESTEM_ERR_BAD_MESSAGE');
  t.equal(code(() => parseClientMessage('{"type":"configure","vocalGain":2}')), 'LIVESTEM_ERR_BAD_MESSAGE');
  t.equal(code(() => parseClientMessage('{"type":"start","sampleRateHz":8000,"channels":1,"format":"s16le","outputs":["vocals","vocals"]}')), 'LIVESTEM_ERR_BAD_MESSAGE');
  const start = (fields: Record<string, unknown>) => startMessageSchema.parse({ type: 'start', sampleRateHz: 48000, channels: 2, format: 's16le', ...fields });
  t.equal(code(() => checkStartAudio(start({ sampleRateHz: 96000 }))), 'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE');
  t.equal(code(() => checkStartAudio(start({ channels: 0 }))), 'LIVESTEM_ERR_UNSUPPORTED_CHANNELS');
  t.equal(code(() => checkStartAudio(start({ format: 'u8' }))), 'LIVESTEM_ERR_UNSUPPORTED_FORMAT');
  t.equal(code(() => checkStartAudio(start({ protocolVersion: 9 }))), 'LIVESTEM_ERR_PROTOCOL_VERSION');
  t.same(checkStartAudio(start({})), {
    inputSampleRateHz: 48000,
    inputChannels: 2,
    inputFormat: 's16le',
    outputSampleRateHz: 48000,
    outputFormat: 's16le',
    outputs: ['vocals', 'accompaniment'],
    vocalGain: 0,
    vad: true,
    outputFraming: 'frames',
  }, 'defaults: output = input, vocals + accompaniment, one frame per kind (protocol v1 as first published)');
});

t.test('error catalog: stable codes, WebSocket close codes in the allowed ranges, HTTP statuses', async (t) => {
  for (const code of ERROR_CODES) {
    const spec = ERROR_CATALOG[code];
    t.match(code, /^LIVESTEM_ERR_[A-Z_]+$/);
    t.ok((spec.closeCode >= 4000 && spec.closeCode < 5000) || [1009, 1011, 1012, 1013].includes(spec.closeCode), `${code} close ${spec.closeCode}`);
    t.ok(spec.httpStatus >= 400 && spec.httpStatus < 600);
  }
  t.equal(ERROR_CATALOG.LIVESTEM_ERR_OVERLOADED.closeCode, 1013);
  t.equal(ERROR_CATALOG.LIVESTEM_ERR_OVERLOADED.httpStatus, 503);
  t.equal(ERROR_CATALOG.LIVESTEM_ERR_PAYLOAD_TOO_LARGE.closeCode, 1009);
});
