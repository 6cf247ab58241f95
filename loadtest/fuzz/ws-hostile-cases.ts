/**
 * WebSocket cases about the transport and resource limits: oversize messages, WebSocket protocol violations,
 * control floods (read and never read), clients that never read audio output, connections cut mid-handshake or
 * mid-frame, and SDP through the `webrtc-offer` message.
 */
import { ANY_CLIENT_ERROR, errorOutcome, type WsCase, type WsStep } from './cases.ts';
import type { GenContext } from './http-cases.ts';
import { OP, closeFrame, encodeFrame, textFrame, upgradeHead } from './raw-ws.ts';
import { sampleSdp } from './sdp.ts';
import { audioBytes, binary, json, plan, sessionHeaders, streamSteps, validStart, wsCase } from './ws-cases.ts';

const TOO_LARGE = errorOutcome('LIVESTEM_ERR_PAYLOAD_TOO_LARGE');

export function oversizeCase(ctx: GenContext): WsCase {
  const { rng, maxMessageBytes } = ctx;
  const variant = rng.pick(['text-over', 'binary-over', 'over-2x', 'lying-header', 'fragmented-over', 'mb-field'] as const);
  const spec = validStart(rng, { format: 's16le' });
  const prelude = variant === 'binary-over' || rng.chance(0.5) ? streamSteps(rng, spec, 1).steps : [];
  const steps: WsStep[] = [...prelude];
  let expect = [TOO_LARGE];
  if (variant === 'text-over') {
    const size = maxMessageBytes + rng.int(1, 65536);
    steps.push(json(`{"type":"ping","id":"${'a'.repeat(size - 25)}"}`, `ping of ${size} bytes`));
  } else if (variant === 'binary-over') {
    const bytes = maxMessageBytes + 4 * rng.int(1, 16384);
    steps.push(binary(new Uint8Array(bytes), `silence, ${bytes} bytes`));
  } else if (variant === 'over-2x') {
    const size = 2 * maxMessageBytes + rng.int(2048, 65536);
    steps.push(rng.chance(0.5) ? binary(new Uint8Array(size), `binary of ${size} bytes`) : json('x'.repeat(size), `text of ${size} bytes`));
    // ws cuts these itself (1009, no error message); our write may then hit the closed socket
    expect = [TOO_LARGE, 'close:1009', 'reset', 'eof'];
  } else if (variant === 'lying-header') {
    const declared = rng.pick([2 ** 62, 2 ** 53, 2 ** 32, 2 * maxMessageBytes + 4096]);
    steps.push({ op: 'send', bytes: encodeFrame(OP.binary, rng.bytes(rng.int(0, 64)), { declaredLength: declared }), note: `frame header announcing ${declared} bytes` });
    steps.push({ op: 'sleep', ms: 200 }, { op: 'abort', reset: false });
    expect = ['close:1009', 'close:1002', TOO_LARGE, 'aborted', 'eof'];
  } else if (variant === 'fragmented-over') {
    const part = Math.ceil((2 * maxMessageBytes + 4096) / 4);
    const frames = [0, 1, 2, 3].map((i) => encodeFrame(i === 0 ? OP.binary : OP.continuation, new Uint8Array(part), { fin: i === 3 }));
    steps.push({ op: 'send', bytes: Buffer.concat(frames), note: `4 fragments of ${part} bytes` });
    expect = [TOO_LARGE, 'close:1009', 'reset', 'eof'];
  } else {
    // 1 MB string field, under the message limit: refused by the schema, not by size
    steps.push(json({ ...spec.message, streamId: 's'.repeat(1_000_000) }, 'start with 1 MB streamId'));
    expect = [errorOutcome('LIVESTEM_ERR_BAD_MESSAGE')];
  }
  steps.push({ op: 'sentinel' });
  return wsCase(ctx, 'oversize', variant, steps, expect);
}

export function wsFramesCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const started = streamSteps(rng, validStart(rng), rng.int(0, 2)).steps;
  const ping = Buffer.from('{"type":"ping","id":"frag"}');
  const table: ReadonlyArray<readonly [string, Buffer, string[]]> = [
    ['unmasked', encodeFrame(OP.text, ping, { mask: false }), ['close:1002']],
    ['rsv1', encodeFrame(OP.text, ping, { rsv: 4 }), ['close:1002']],
    ['rsv3', encodeFrame(OP.binary, new Uint8Array(4), { rsv: 1 }), ['close:1002']],
    ['opcode-3', encodeFrame(3, ping), ['close:1002']],
    ['opcode-B', encodeFrame(0xb, Buffer.alloc(0)), ['close:1002']],
    ['big-ping', encodeFrame(OP.ping, Buffer.alloc(126)), ['close:1002']],
    ['fragmented-ping', encodeFrame(OP.ping, Buffer.alloc(4), { fin: false }), ['close:1002']],
    ['orphan-continuation', encodeFrame(OP.continuation, ping), ['close:1002']],
    ['text-then-text', Buffer.concat([encodeFrame(OP.text, ping.subarray(0, 5), { fin: false }), encodeFrame(OP.text, ping)]), ['close:1002']],
    ['close-code-999', closeFrame(999), ['close:1002']],
    ['close-code-1005', closeFrame(1005), ['close:1002']],
    ['close-code-5000', closeFrame(5000), ['close:1002']],
    ['close-1-byte', encodeFrame(OP.close, Buffer.from([3])), ['close:1002']],
    ['close-bad-utf8', encodeFrame(OP.close, Buffer.from([0x03, 0xe8, 0xff, 0xfe])), ['close:1007', 'close:1002']],
    ['close-1000', closeFrame(1000, 'bye'), ['close:1000']],
    ['close-4999', closeFrame(4999, 'x'.repeat(100)), ['close:4999', 'close:1000']],
    ['pong-unsolicited', Buffer.concat([encodeFrame(OP.pong, Buffer.from('x')), textFrame('{"type":"ping","id":1}')]), ['open', 'done/1000', ANY_CLIENT_ERROR]],
    ['client-ping', encodeFrame(OP.ping, Buffer.from('hello')), ['open', 'done/1000', ANY_CLIENT_ERROR]],
    ['one-byte-fragments', Buffer.concat([...ping].map((b, i) => encodeFrame(i === 0 ? OP.text : OP.continuation, Buffer.from([b]), { fin: i === ping.length - 1 }))), ['open', 'done/1000', ANY_CLIENT_ERROR]],
    ['ping-between-fragments', Buffer.concat([encodeFrame(OP.text, ping.subarray(0, 9), { fin: false }), encodeFrame(OP.ping, Buffer.from('p')), encodeFrame(OP.continuation, ping.subarray(9))]), ['open', 'done/1000', ANY_CLIENT_ERROR]],
  ];
  const [variant, bytes, expect] = rng.pick(table);
  const steps: WsStep[] = [...started, { op: 'send', bytes, note: variant }, { op: 'sentinel' }, rng.chance(0.5) ? { op: 'end' } : { op: 'close' }];
  // Before start, a well-formed ping is itself a protocol error of ours (first message must be start).
  const lenient = expect.includes('open') ? [...expect, ANY_CLIENT_ERROR] : [...expect, 'error:LIVESTEM_ERR_BAD_MESSAGE/*', 'eof'];
  return wsCase(ctx, 'ws-frames', `${variant}${started.length ? ' after-start' : ''}`, steps, lenient);
}

/** Many control messages in one burst, read as they come back: all answered, or RATE_LIMITED. */
export function floodCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const spec = validStart(rng);
  const { steps } = streamSteps(rng, spec, rng.int(0, 2));
  const count = rng.int(20, 400);
  const kind = rng.pick(['ping', 'stats', 'configure', 'flush', 'mixed'] as const);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const k = kind === 'mixed' ? rng.pick(['ping', 'stats', 'configure', 'flush'] as const) : kind;
    frames.push(textFrame(JSON.stringify(k === 'configure' ? { type: k, vocalGain: (i % 10) / 10 } : k === 'flush' ? { type: k } : { type: k, id: i })));
  }
  steps.push({ op: 'send', bytes: Buffer.concat(frames), note: `${count} × ${kind} in one write`, count }, { op: 'sentinel' }, { op: 'end' });
  return wsCase(ctx, 'flood', `${kind}`, steps, ['done/1000', errorOutcome('LIVESTEM_ERR_RATE_LIMITED')]);
}

/**
 * A client that never reads while it floods `stats` (the biggest reply): the server must not queue replies without
 * bound. Each stats reply reports the server's unsent bytes at that moment; above the send-buffer limit without a
 * SLOW_CONSUMER is a violation (the runner checks it).
 */
export function floodNoReadCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const spec = validStart(rng);
  const { steps } = streamSteps(rng, spec, 1);
  const count = rng.int(1500, 4000);
  const bursts = rng.int(1, 4);
  steps.push({ op: 'pause' });
  const per = Math.ceil(count / bursts);
  for (let b = 0; b < bursts; b++) {
    const frames = Array.from({ length: per }, (_, i) => textFrame(JSON.stringify({ type: 'stats', id: `${b}-${i}-${'q'.repeat(50)}`.slice(0, 64) })));
    steps.push({ op: 'send', bytes: Buffer.concat(frames), note: `${per} × stats (64-char id), not reading`, count: per }, { op: 'sleep', ms: 50 });
  }
  steps.push({ op: 'sleep', ms: 300 }, { op: 'resume-reading' }, { op: 'sentinel' }, { op: 'end' });
  return wsCase(ctx, 'flood-noread', `${bursts} bursts`, steps, ['done/1000', errorOutcome('LIVESTEM_ERR_RATE_LIMITED'), errorOutcome('LIVESTEM_ERR_SLOW_CONSUMER')], {
    watchSendBuffer: true,
  });
}

/**
 * Streams audio as fast as TCP takes it and reads nothing until the end; or a client that goes silent (never sends
 * start, or stops after it) and must be timed out by the server (start timeout 2 s / idle timeout 4 s in fuzz runs).
 */
export function slowReaderCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const spec = validStart(rng, { outputFormat: 'f32le' });
  if (rng.chance(0.3)) {
    const afterStart = rng.chance(0.5);
    const steps: WsStep[] = afterStart ? [json(spec.message, 'start'), { op: 'await', types: ['ready'], count: 1 }] : [];
    // long enough for a --url server with the default timeouts (start 10 s, idle 30 s)
    steps.push({ op: 'await', types: ['error'], count: 1, timeoutMs: 40_000 });
    return wsCase(ctx, 'slow-reader', afterStart ? 'silent after start' : 'silent before start', steps, [errorOutcome('LIVESTEM_ERR_IDLE_TIMEOUT')]);
  }
  const steps: WsStep[] = [json(spec.message, 'start'), { op: 'await', types: ['ready'], count: 1 }, { op: 'pause' }];
  const chunk = Math.round(spec.inputRateHz / 50);
  const chunks = rng.int(50, 150);
  const bytes = audioBytes(rng, chunk, spec.channels, spec.format);
  steps.push({ op: 'send', bytes: Buffer.concat(Array.from({ length: chunks }, () => encodeFrame(OP.binary, bytes))), note: `${chunks} × 20 ms audio`, count: chunks });
  steps.push({ op: 'sleep', ms: rng.int(100, 1500) }, { op: 'resume-reading' }, { op: 'end' });
  return wsCase(ctx, 'slow-reader', `${chunks} chunks`, steps, [
    'done/1000', errorOutcome('LIVESTEM_ERR_SLOW_CONSUMER'), errorOutcome('LIVESTEM_ERR_INPUT_OVERRUN'), errorOutcome('LIVESTEM_ERR_RATE_LIMITED'),
  ], { audio: plan(spec, chunk * chunks) });
}

export function abruptCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const reset = rng.chance(0.6);
  const variant = rng.pick(['mid-handshake', 'after-upgrade', 'mid-frame-start', 'mid-frame-audio', 'mid-stream', 'after-end', 'after-flush'] as const);
  const spec = validStart(rng);
  const abort: WsStep = { op: 'abort', reset };
  if (variant === 'mid-handshake') {
    // The runner sends the handshake itself; a case that cuts inside it replaces the whole request.
    const head = upgradeHead('/v1/stream', sessionHeaders(ctx));
    const cut = rng.int(1, head.length - 1);
    return wsCase(ctx, 'abrupt', `${variant}${reset ? '' : ' fin'}`, [abort], ['aborted', 'http:4*'], { rawHandshake: head.slice(0, cut) });
  }
  if (variant === 'after-upgrade') return wsCase(ctx, 'abrupt', `${variant}${reset ? '' : ' fin'}`, [abort], ['aborted']);
  if (variant === 'mid-frame-start') {
    const frame = textFrame(JSON.stringify(spec.message));
    return wsCase(ctx, 'abrupt', `${variant}${reset ? '' : ' fin'}`, [{ op: 'send', bytes: frame.subarray(0, rng.int(1, frame.length - 1)), note: 'start, cut' }, abort], ['aborted']);
  }
  const { steps } = streamSteps(rng, spec, rng.int(1, 5));
  if (variant === 'mid-frame-audio') {
    const frame = encodeFrame(OP.binary, audioBytes(rng, rng.int(10, 3000), spec.channels, spec.format));
    steps.push({ op: 'send', bytes: frame.subarray(0, rng.int(1, frame.length - 1)), note: 'audio frame, cut' });
  } else if (variant === 'after-end') steps.push(json({ type: 'end' }, 'end'));
  else if (variant === 'after-flush') steps.push(json({ type: 'flush' }, 'flush'));
  steps.push(abort);
  return wsCase(ctx, 'abrupt', `${variant}${reset ? '' : ' fin'}`, steps, ['aborted', 'done/1000']);
}

/** `webrtc-offer` as the socket's first message (the signalling form); sometimes after a start. */
export function sdpWsCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const sample = sampleSdp(rng);
  const afterStart = rng.chance(0.2);
  const steps: WsStep[] = afterStart ? streamSteps(rng, validStart(rng), 0).steps : [];
  const offer: Record<string, unknown> = { type: 'webrtc-offer', sdp: sample.sdp };
  if (rng.chance(0.3)) offer['outputs'] = rng.pick([['vocals'], ['karaoke', 'vocals'], ['vocals', 'vocals', 'vocals', 'vocals']]);
  if (rng.chance(0.2)) offer['vocalGain'] = rng.pick([0.5, 2, -1]);
  steps.push(json(offer, `webrtc-offer ${sample.variant} (${sample.sdp.length} chars)`), { op: 'await', types: ['webrtc-answer', 'error'], count: 1, timeoutMs: 15_000 });
  steps.push({ op: 'close' });
  return wsCase(ctx, 'sdp-ws', `${sample.variant}${afterStart ? ' after-start' : ''}`, steps, [ANY_CLIENT_ERROR, 'webrtc-answer*', 'open']);
}
