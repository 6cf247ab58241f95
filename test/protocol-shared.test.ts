/**
 * The SDK and the server cannot disagree about the wire protocol: both use client-sdk/src/protocol, and this test
 * fails when either side drifts from it. Error codes and retryability as the SDK reports them equal the server's
 * catalog; frames the server encodes decode in the SDK (and re-encode byte for byte); PCM the SDK encodes decodes on
 * the server as sent; messages the SDK builds pass the server's schemas. Statically: the protocol module imports
 * nothing outside itself and bundles for browsers, the SDK imports nothing from server/, the load tester (fuzz aside)
 * takes protocol things only from the shared module, and no copy of a protocol definition exists elsewhere.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import t from 'tap';
import ts from 'typescript';
import * as Sdk from '../client-sdk/src/index.ts';
import { errorFromMessage, startMessage, type StartParams } from '../client-sdk/src/handshake.ts';
import * as Protocol from '../client-sdk/src/protocol/index.ts';
import { ERROR_CATALOG, ERROR_CODES, LivestemError, isErrorCode } from '../server/errors.ts';
import { checkStartAudio, errorMessage, parseClientMessage } from '../server/protocol/messages.ts';
import type { Same } from '../server/protocol/same-type.ts';
import { mulberry32 } from './helpers/signals.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---- compile-time: the SDK's public names are the protocol's types, not look-alikes ----
const sdkTypesAreProtocolTypes: [
  Same<Sdk.ReadyMessage, Protocol.ReadyMessage>,
  Same<Sdk.ResumedMessage, Protocol.ResumedMessage>,
  Same<Sdk.SessionLimits, Protocol.SessionLimits>,
  Same<Sdk.InputAdjustments, Protocol.InputAdjustments>,
  Same<Sdk.StatsEvent, Protocol.StatsMessage>,
  Same<Sdk.DoneEvent, Protocol.DoneMessage>,
  Same<Sdk.InputDroppedEvent, Protocol.InputDroppedMessage>,
  Same<Sdk.VadEvent, Protocol.VadMessage>,
  Same<Sdk.RtcStatsEvent, Protocol.RtcStatsMessage>,
  Same<Sdk.ServerMessage, Protocol.ServerMessage>,
  Same<Sdk.ClientMessage, Protocol.ClientMessage>,
  Same<Sdk.ServerErrorCode, Protocol.ErrorCode>,
  Same<Sdk.OutputKind, Protocol.OutputKind>,
  Same<Sdk.SampleFormat, Protocol.SampleFormat>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];

t.test('error catalog: the SDK reports every server code with the server’s retryability', async (t) => {
  t.ok(sdkTypesAreProtocolTypes.every(Boolean), 'SDK type names are the protocol types (checked by tsc)');
  t.same([...Sdk.SERVER_ERROR_CODES], [...ERROR_CODES], 'same codes, same order');
  for (const code of ERROR_CODES) {
    const serverError = new LivestemError(code);
    const wire = JSON.parse(JSON.stringify(errorMessage(serverError))) as { code: unknown; message: string; retryable: boolean };
    const received = errorFromMessage(wire, serverError.closeCode);
    t.equal(received.code, code, `${code} arrives as itself`);
    t.equal(received.retryable, ERROR_CATALOG[code].retryable, `${code} retryable as sent`);
    t.equal(received.status, ERROR_CATALOG[code].closeCode);
    // Without the server's word (e.g. an HTTP error body lacking `retryable`) the SDK falls back to the same table.
    t.equal(new Sdk.LivestemClientError(code, 'x').retryable, serverError.retryable, `${code} default retryability`);
    t.ok(Sdk.isServerErrorCode(code));
  }
  for (const junk of ['LIVESTEM_ERR_NOPE', 'toString', '__proto__', 'LIVESTEM_CLIENT_CLOSED', 42, null, undefined]) {
    t.equal(Sdk.isServerErrorCode(junk), false, `SDK rejects ${String(junk)}`);
    t.equal(isErrorCode(junk), false, `server rejects ${String(junk)}`);
  }
  for (const code of Sdk.CLIENT_ERROR_CODES) t.notOk(Object.hasOwn(ERROR_CATALOG, code), `${code} is not a server code`);
});

/** What an s16le round trip does to a sample: round(x · 32768) clipped to the int16 range, read back / 32768. */
function s16(x: number): number {
  return Math.min(32767, Math.max(-32768, Math.round(x * 32768))) / 32768;
}

function randomPlanar(rand: () => number, channels: number, frames: number): Float32Array[] {
  return Array.from({ length: channels }, () => Float32Array.from({ length: frames }, () => (rand() * 2 - 1) * 1.2));
}

/** A copy of `bytes` at an odd offset inside a larger buffer, as a socket library may hand it over. */
function atOddOffset(bytes: Uint8Array): Uint8Array {
  const host = new Uint8Array(bytes.byteLength + 7);
  host.set(bytes, 3);
  return host.subarray(3, 3 + bytes.byteLength);
}

t.test('output frames: what the server encodes the SDK decodes, and re-encodes byte for byte', async (t) => {
  const rand = mulberry32(12);
  let sequence = 0;
  for (const kind of Protocol.OUTPUT_KINDS) {
    for (const format of Protocol.SAMPLE_FORMATS) {
      for (const channels of [1, 2]) {
        for (const frames of [0, 1, 257]) {
          const planar = randomPlanar(rand, channels, frames);
          const header = { kind, format, sequence: sequence++, sampleOffset: 2 ** 40 + frames, sampleRateHz: 44100 };
          const bytes = Protocol.encodeAudioFrame(header, planar);
          const chunk = Sdk.decodeOutputFrame(atOddOffset(bytes));
          const label = `${kind} ${format} ×${channels} ${frames}`;
          t.same(
            { kind: chunk.kind, sequence: chunk.sequence, sampleOffset: chunk.sampleOffset, sampleRateHz: chunk.sampleRateHz },
            { kind, sequence: header.sequence, sampleOffset: header.sampleOffset, sampleRateHz: 44100 },
            `${label}: header`,
          );
          const expected = format === 'f32le' ? planar : planar.map((ch) => ch.map(s16));
          t.same(chunk.samples, expected, `${label}: samples`);
          const again = Protocol.decodeAudioFrame(bytes);
          t.same(Protocol.encodeAudioFrame(again, again.samples), bytes, `${label}: decode → encode is identical (replay)`);
        }
      }
    }
  }
  const good = Protocol.encodeAudioFrame({ kind: 'vocals', format: 'f32le', sequence: 0, sampleOffset: 0, sampleRateHz: 8000 }, [new Float32Array(2)]);
  const nan = Uint8Array.from(good);
  new DataView(nan.buffer).setFloat32(Protocol.FRAME_HEADER_BYTES + 4, Number.NaN, true);
  const badKind = Uint8Array.from(good);
  badKind[1] = 7;
  for (const [name, bytes] of [['truncated', good.subarray(0, 30)], ['unknown kind', badKind], ['NaN sample', nan]] as const) {
    // session.ts turns exactly this error class into LIVESTEM_CLIENT_PROTOCOL.
    t.throws(() => Sdk.decodeOutputFrame(bytes), Protocol.FrameDecodeError, `SDK rejects a frame with ${name}`);
  }
});

t.test('PCM: what the SDK encodes the server decodes as sent; f32le is little-endian on any host', async (t) => {
  const rand = mulberry32(5);
  for (const format of Protocol.SAMPLE_FORMATS) {
    for (const channels of [1, 2]) {
      const planar = randomPlanar(rand, channels, 301);
      const bytes = Sdk.encodePcm(planar, format);
      t.equal(bytes.byteLength, 301 * channels * Protocol.bytesPerSample(format));
      const decoded = Protocol.decodePcm(atOddOffset(bytes), format, channels);
      t.same(decoded, format === 'f32le' ? planar : planar.map((ch) => ch.map(s16)), `${format} ×${channels}`);
    }
  }
  const planar = randomPlanar(rand, 2, 64);
  const reference = new DataView(new ArrayBuffer(64 * 2 * 4));
  for (let i = 0; i < 64; i++) for (let c = 0; c < 2; c++) reference.setFloat32((i * 2 + c) * 4, planar[c]![i]!, true);
  const host = new Uint8Array(64 * 2 * 4 + 5);
  Sdk.encodePcm(planar, 'f32le', host.subarray(5));
  t.same(host.subarray(5), new Uint8Array(reference.buffer), 'f32le bytes equal DataView little-endian writes, at any offset');
});

t.test('client messages: what the SDK builds, the server’s schemas accept as meant', async (t) => {
  const params: StartParams[] = [
    { sampleRate: 48000, channels: 2 },
    { sampleRate: 16000, channels: 1, format: 's16le', outputs: ['karaoke'], vocalGain: 0.3, outputSampleRate: 44100, outputFormat: 's16le', vad: false, model: 'lstm', streamId: 'cam-1' },
  ];
  for (const p of params) {
    const parsed = parseClientMessage(JSON.stringify(startMessage(p)));
    if (parsed.type !== 'start') throw new Error(`parsed as ${parsed.type}`);
    const audio = checkStartAudio(parsed);
    t.equal(audio.inputSampleRateHz, p.sampleRate);
    t.equal(audio.inputChannels, p.channels);
    t.equal(audio.outputFormat, p.outputFormat ?? 'f32le');
  }
  const others: Protocol.ClientMessage[] = [
    { type: 'resume', protocolVersion: Protocol.PROTOCOL_VERSION, sessionId: 's', resumeToken: 'r', lastSampleOffset: 512 },
    { type: 'configure', outputs: ['vocals'], vocalGain: 1 },
    { type: 'flush' },
    { type: 'end' },
    { type: 'ping', id: 1.5 },
    { type: 'stats', id: 'a' },
    { type: 'stats', id: null },
  ];
  for (const msg of others) t.same(parseClientMessage(JSON.stringify(msg)), msg, `${msg.type} accepted unchanged`);
});

t.test('constants: the SDK exports the protocol’s values, not copies', async (t) => {
  t.equal(Sdk.PROTOCOL_VERSION, Protocol.PROTOCOL_VERSION);
  t.equal(Sdk.OUTPUT_KINDS, Protocol.OUTPUT_KINDS);
  t.equal(Sdk.SAMPLE_FORMATS, Protocol.SAMPLE_FORMATS);
  t.equal(Sdk.SUPPORTED_SAMPLE_RATES_HZ, Protocol.SUPPORTED_SAMPLE_RATES_HZ);
  t.equal(Sdk.ERROR_CATALOG, ERROR_CATALOG);
  t.equal(Sdk.encodePcm, Protocol.encodePcm);
});

// ---- static checks on the source tree ----

async function tsFiles(dir: string, skip: (path: string) => boolean = () => false): Promise<string[]> {
  const names = await readdir(resolve(ROOT, dir), { recursive: true });
  return names
    .filter((n) => n.endsWith('.ts'))
    .map((n) => resolve(ROOT, dir, n))
    .filter((p) => !skip(p));
}

/** Every module specifier a file imports or re-exports (static and literal dynamic imports). */
async function specifiers(file: string): Promise<string[]> {
  return ts.preProcessFile(await readFile(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** A relative specifier resolved to a repository path (`server/errors.ts`); bare and node: specifiers as they are. */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)) : spec;
}

const PROTOCOL_DIR = 'client-sdk/src/protocol';
const isFuzz = (p: string): boolean => relative(ROOT, p).startsWith('loadtest/fuzz/');

t.test('imports: the protocol module is self-contained; the SDK and the load tester reach protocol things through it', async (t) => {
  for (const file of await tsFiles(PROTOCOL_DIR)) {
    for (const spec of await specifiers(file)) {
      const to = target(file, spec);
      t.ok(to.startsWith(`${PROTOCOL_DIR}/`), `${relative(ROOT, file)} imports ${spec}: only files of the protocol module`);
    }
  }
  for (const file of await tsFiles('client-sdk/src')) {
    for (const spec of await specifiers(file)) {
      const to = target(file, spec);
      if (spec.startsWith('.')) t.ok(to.startsWith('client-sdk/src/'), `${relative(ROOT, file)} imports ${spec}: stays inside the SDK`);
      t.notOk(to.startsWith('server/'), `${relative(ROOT, file)} imports nothing from server/`);
    }
  }
  // The load tester still uses server DSP (resampler, WAV), the Opus encoder and the offline pipeline on purpose:
  // those are tools, not protocol. Protocol things (messages, codecs, error catalog) come only from the shared module.
  for (const file of await tsFiles('loadtest', isFuzz)) {
    for (const spec of await specifiers(file)) {
      const to = target(file, spec);
      t.notOk(to.startsWith('server/protocol/') || to === 'server/errors.ts', `${relative(ROOT, file)} imports ${spec}: protocol from the shared module only`);
    }
  }
});

t.test('no copies: protocol definitions exist only in the protocol module', async (t) => {
  const definition =
    /\b(?:const|let|var)\s+(?:PROTOCOL_VERSION|SUPPORTED_SAMPLE_RATES_HZ|SAMPLE_FORMATS|OUTPUT_KINDS|FRAME_HEADER_BYTES|FRAME_VERSION|ERROR_CATALOG|SERVER_ERROR_CODES|ERROR_CODES)\s*(?::[^=]*)?=\s*[[{\d]|\b(?:interface|type)\s+(?:ReadyMessage|ResumedMessage|SessionLimits|VadMessage|StatsMessage|DoneMessage|ErrorMessage|InputDroppedMessage|ServerMessage|ClientMessage|StartMessage|VadEvent|StatsEvent|DoneEvent|InputDroppedEvent)\s*(?:[=<{]|extends)|\bfunction\s+(?:encodePcm|decodePcm|encodeAudioFrame|decodeAudioFrame|decodeAudioFrameHeader)\b/;
  const files = [
    ...(await tsFiles('server')),
    ...(await tsFiles('client-sdk/src', (p) => relative(ROOT, p).startsWith(`${PROTOCOL_DIR}/`))),
    ...(await tsFiles('loadtest', isFuzz)),
  ];
  for (const file of files) {
    const match = definition.exec(await readFile(file, 'utf8'));
    t.equal(match?.[0], undefined, `${relative(ROOT, file)} defines no protocol item of its own`);
  }
});

t.test('browser bundles: the protocol module and the SDK build for the browser with no Node built-ins', async (t) => {
  for (const [entry, external] of [
    [`${PROTOCOL_DIR}/index.ts`, []],
    ['client-sdk/src/index.ts', ['ws']], // the SDK loads `ws` itself only when there is no global WebSocket (Node)
  ] as const) {
    const result = await build({
      entryPoints: [resolve(ROOT, entry)],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external: [...external],
      write: false,
      logLevel: 'silent',
    });
    t.same(result.errors, [], `${entry} bundles`);
    t.notMatch(result.outputFiles[0]?.text ?? '', /from\s*["']node:/, `${entry} pulls in no node: module`);
  }
});
