/**
 * The SDK across dropped connections, against a real server behind a fault-injecting proxy: a song streamed through
 * `connect({ reconnect: true })` with one or two network drops mid-song comes back sample for sample like an
 * uninterrupted run (same session id, contiguous offsets, nothing repeated or missing, `resumed` events); when the
 * server refuses the resume (grace period over) the SDK falls back to a new session and says so (`reconnect`) with
 * offsets still contiguous. Audio messages stay within `limits.maxAudioMessagesPerSecond` however small the writes.
 */
import t, { type Test } from 'tap';
import { connect, type ConnectOptions, type LivestemSession, type OutputChunk, type OutputKind, type ReconnectEvent, type ResumedEvent } from '../client-sdk/src/index.ts';
import { InputOutbox } from '../client-sdk/src/outbox.ts';
import { AudioSendPacer } from '../client-sdk/src/send-pacer.ts';
import { exportTestModel, maxAbsDiffPlanar, randomSizes, startTestServer, testSong } from './helpers/server-harness.ts';
import { mulberry32 } from './helpers/signals.ts';
import { startFaultProxy, type Fault } from './helpers/ws-fault-proxy.ts';

t.test('outbox: what is taken, trimmed and resent is exactly what was written', async (t) => {
  const rand = mulberry32(3);
  const frameBytes = 8;
  const box = new InputOutbox(frameBytes);
  const written: number[] = [];
  const sent: number[] = [];
  const takeAll = (max: number): void => {
    while (box.unsentFrames > 0) {
      const bytes = box.take(1 + Math.floor(rand() * max));
      for (let i = 0; i < bytes.byteLength; i += frameBytes) sent.push(bytes[i]! | (bytes[i + 1]! << 8));
    }
  };
  for (let round = 0; round < 200; round++) {
    const frames = 1 + Math.floor(rand() * (round % 50 === 0 ? 20000 : 300)); // now and then one over a block
    const bytes = new Uint8Array(frames * frameBytes);
    for (let f = 0; f < frames; f++) {
      const v = (box.end + f) & 0xffff;
      bytes[f * frameBytes] = v & 0xff;
      bytes[f * frameBytes + 1] = v >> 8;
    }
    box.push(bytes);
    written.push(frames);
    takeAll(500);
    box.trimBefore(box.sent - Math.floor(rand() * 1000));
    if (round % 7 === 0) {
      const from = box.start + Math.floor(rand() * (box.sent - box.start));
      sent.length = from;
      box.rewind(from);
    }
  }
  takeAll(5000);
  t.equal(box.end, written.reduce((a, b) => a + b, 0));
  t.equal(sent.length, box.end, 'every frame sent once in the end (resends replaced what they repeat)');
  t.ok(sent.every((v, i) => v === (i & 0xffff)), 'in order, bytes intact');
  t.throws(() => box.rewind(box.start - 1), RangeError, 'cannot resend what was trimmed');
});

t.test('pacer: a server that pauses reading and then reads in bursts never sees more than its limit', async (t) => {
  const LIMIT = 200;
  const rand = mulberry32(9);
  const pacer = new AudioSendPacer(LIMIT, 0);
  const inFlight: { end: number }[] = [];
  let sentEnd = 0;
  let serverTokens = LIMIT;
  let violations = 0;
  let readCount = 0;
  let pausedUntil = 0;
  for (let now = 0; now < 20_000; now++) {
    // the client always has audio to send (a writer faster than real time)
    while (pacer.check(now).kind === 'send') {
      sentEnd += 10;
      pacer.sent(sentEnd, now);
      inFlight.push({ end: sentEnd });
    }
    serverTokens = Math.min(LIMIT, serverTokens + LIMIT / 1000);
    if (now >= pausedUntil) {
      // reads everything queued at once, then maybe pauses (backpressure) for up to 3 s
      for (const m of inFlight.splice(0)) {
        if (serverTokens < 1) violations++;
        else serverTokens -= 1;
        readCount++;
        pacer.read(m.end); // output (or a pong) tells the client
      }
      if (rand() < 0.002) pausedUntil = now + Math.floor(rand() * 3000);
    }
  }
  t.equal(violations, 0, `no message over the server's budget (${readCount} read in 20 s)`);
  t.ok(readCount > 20 * (LIMIT / 2) * 0.5, 'at least half the sustained rate (limit / 2) despite the pauses');
});

const RATE = 44100;
const KINDS: OutputKind[] = ['vocals', 'accompaniment'];
const fixture = await exportTestModel(17);
t.teardown(() => fixture.cleanup());
const main = await startTestServer(fixture.modelsDir);
t.teardown(() => main.server.close());
const upstreamOf = (streamUrl: string): string => streamUrl.replace(/\/v1\/stream$/, '');

interface Run {
  output: Record<string, Float32Array[]>;
  problems: string[];
  sessionIds: Set<string>;
  resumed: ResumedEvent[];
  reconnects: ReconnectEvent[];
  disconnects: number;
  /** Every VAD hop delivered, as "offset:prob". */
  vad: string[];
  inputSamples: number;
  doneInputSamples: number;
}

/** Streams `song` through the SDK as fast as it takes it, in the given write sizes; checks offsets as chunks arrive. */
async function runSong(
  opts: Omit<ConnectOptions, 'sampleRate' | 'channels'>,
  song: Float32Array[],
  sizes: number[],
  hooks: {
    afterWrite?: (written: number, session: LivestemSession) => void;
    onOutput?: (c: OutputChunk, session: LivestemSession) => void;
    /** Awaited after the last write, before `end`. */
    beforeEnd?: (session: LivestemSession) => Promise<void>;
  } = {},
): Promise<Run> {
  const length = song[0]!.length;
  const session = await connect({ sampleRate: RATE, channels: song.length as 1 | 2, format: 'f32le', outputs: KINDS, ...opts });
  const run: Run = { output: {}, problems: [], sessionIds: new Set([session.ready.sessionId]), resumed: [], reconnects: [], disconnects: 0, vad: [], inputSamples: 0, doneInputSamples: 0 };
  const ends = new Map<string, number>();
  for (const kind of KINDS) run.output[kind] = song.map(() => new Float32Array(length));
  session.on('output', (c: OutputChunk) => {
    const n = c.samples[0]!.length;
    const expected = ends.get(c.kind) ?? 0;
    if (c.sampleOffset !== expected) run.problems.push(`${c.kind}: chunk at ${c.sampleOffset}, expected ${expected}`);
    if (c.sampleOffset + n > length) run.problems.push(`${c.kind}: chunk ends at ${c.sampleOffset + n} > ${length}`);
    else c.samples.forEach((ch, i) => run.output[c.kind]![i]!.set(ch, c.sampleOffset));
    ends.set(c.kind, c.sampleOffset + n);
    hooks.onOutput?.(c, session);
  });
  session.on('resumed', (ev) => {
    run.resumed.push(ev);
    run.sessionIds.add(ev.ready.sessionId);
  });
  session.on('reconnect', (ev) => {
    run.reconnects.push(ev);
    run.sessionIds.add(ev.ready.sessionId);
  });
  session.on('disconnect', () => run.disconnects++);
  session.on('vad', (v) => v.probs.forEach((p, i) => run.vad.push(`${Math.round(v.sampleOffset + i * v.hopSamples)}:${p}`)));
  for (let pos = 0, k = 0; pos < length; k++) {
    const end = Math.min(length, pos + sizes[k % sizes.length]!);
    await session.write(song.map((ch) => ch.subarray(pos, end)));
    pos = end;
    hooks.afterWrite?.(pos, session);
  }
  await hooks.beforeEnd?.(session);
  run.inputSamples = session.inputSamples;
  const done = await session.end();
  run.doneInputSamples = done.inputSamples;
  for (const kind of KINDS) if (ends.get(kind) !== length) run.problems.push(`${kind}: output ends at ${ends.get(kind)}, input is ${length}`);
  run.sessionIds.add(session.ready.sessionId);
  return run;
}

const song = testSong(4 * RATE, RATE, 2, 31);
const sizes = randomSizes(5, 64, 300, 5000);
const reference = await runSong({ url: main.server.httpUrl }, song, sizes);

t.test('reference run (no proxy) is clean', async (t) => {
  t.same(reference.problems, []);
  t.equal(reference.doneInputSamples, song[0]!.length);
});

function expectIdentical(t: Test, run: Run, label: string): void {
  for (const kind of KINDS) {
    const diff = maxAbsDiffPlanar(run.output[kind]!, reference.output[kind]!);
    t.ok(diff <= 1e-6, `${label}: ${kind} equals the uninterrupted run (max |diff| ${diff.toExponential(2)})`);
  }
  t.same(run.vad, reference.vad, `${label}: the same VAD hops, none repeated or missing (${run.vad.length})`);
}

for (const [drops, outputFraming] of [[1, 'frames'], [2, 'frames'], [2, 'bundles']] as const) {
  t.test(`${drops} network drop(s) mid-song (${outputFraming}): resumed losslessly, same session, contiguous offsets`, async (t) => {
    // Frames alternate vocals / accompaniment: cutting at an odd index leaves vocals one frame ahead, so the replay
    // from the minimum over kinds repeats a vocals frame the SDK must not deliver twice. A bundle carries every kind,
    // so it is cut at about the same point of the song. The silent spell loses output and input in flight both ways
    // before the sockets die.
    const cutAt = (c: number): number => (outputFraming === 'frames' ? 9 + 2 * c : 4 + c);
    const faults: Fault[] = Array.from({ length: drops }, (_, c) => ({ connection: c, binaryFrame: cutAt(c), action: 'cut', silentMs: 40 }));
    const proxy = await startFaultProxy(upstreamOf(main.url), faults);
    t.teardown(() => proxy.close());
    const run = await runSong({ url: proxy.baseUrl, reconnect: { delayMs: 20 }, outputFraming }, song, sizes);
    t.equal(proxy.injected.cut.length, drops, `${drops} connection(s) cut`);
    t.same(run.problems, [], 'every kind: contiguous offsets from 0 to the input length, no repeats');
    t.equal(run.disconnects, drops, 'one disconnect event per drop');
    t.equal(run.resumed.length, drops, 'one resumed event per drop');
    t.equal(run.reconnects.length, 0, 'never fell back to a new session');
    t.equal(run.sessionIds.size, 1, 'one session id throughout');
    t.equal(run.doneInputSamples, song[0]!.length, 'the server processed every input sample exactly once');
    t.ok(
      run.resumed.every((r) => r.resumed.outputSampleOffset >= 0 && r.resentSamples >= 0),
      `resumed at ${run.resumed.map((r) => `out ${r.resumed.outputSampleOffset} / in ${r.resumed.inputSamples} (resent ${r.resentSamples})`).join(', ')}`,
    );
    expectIdentical(t, run, `${drops} drop(s)`);
  });
}

t.test('drops chosen by input progress (while writing) resume losslessly too', async (t) => {
  const proxy = await startFaultProxy(upstreamOf(main.url), []);
  t.teardown(() => proxy.close());
  // One drop while the input is being written, one while the tail's output arrives — before `end`, whatever the
  // machine's speed: a drop after `end` is final by design (the server ends such a session), so `end` waits for it.
  let inputCut = false;
  let outputCut = false;
  const run = await runSong({ url: proxy.baseUrl, reconnect: { delayMs: 20 } }, song, sizes, {
    afterWrite: (written, session) => {
      // the audio just written is still on its way: the silent spell makes sure the server never sees it
      if (!inputCut && written >= 1.2 * RATE && session.state === 'open') {
        inputCut = true;
        proxy.cut(undefined, 30);
      }
    },
    onOutput: (c, session) => {
      if (inputCut && !outputCut && c.sampleOffset >= 2.5 * RATE && session.state === 'open') {
        outputCut = true;
        proxy.cut(undefined, 30);
      }
    },
    beforeEnd: async (session) => {
      const deadline = Date.now() + 20_000;
      while ((!outputCut || session.state !== 'open') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
  });
  t.equal(proxy.injected.cut.length, 2, 'two connections cut');
  t.same(run.problems, [], 'contiguous offsets, no repeats');
  t.equal(run.resumed.length, 2, 'resumed twice');
  t.equal(run.sessionIds.size, 1, 'one session id');
  const resent = run.resumed.map((r) => r.resentSamples);
  t.ok(resent.some((n) => n > 0), `input the server never got was sent again (${resent.join(', ')} samples)`);
  expectIdentical(t, run, 'cut while writing');
});

t.test('tiny writes stay within maxAudioMessagesPerSecond (coalesced, no RATE_LIMITED)', async (t) => {
  const strict = await startTestServer(fixture.modelsDir, { maxAudioMessagesPerSecond: 100 });
  t.teardown(() => strict.server.close());
  const short = song.map((ch) => ch.subarray(0, RATE));
  // 32-sample writes with a macrotask between them: 1378 writes in well under a second without pacing.
  const session = await connect({ url: strict.server.httpUrl, sampleRate: RATE, channels: 2, outputs: KINDS });
  t.equal(session.ready.limits.maxAudioMessagesPerSecond, 100);
  let received = 0;
  session.on('vocals', (c) => (received += c.samples[0]!.length));
  const errors: string[] = [];
  session.on('error', (e) => errors.push(e.code));
  for (let pos = 0; pos < RATE; pos += 32) {
    await session.write(short.map((ch) => ch.subarray(pos, Math.min(RATE, pos + 32))));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const done = await session.end();
  t.same(errors, [], 'no server error');
  t.equal(done.inputSamples, RATE);
  t.equal(received, RATE, 'all output arrived');
});

t.test('resume refused (grace period over): falls back to a new session, offsets stay contiguous', async (t) => {
  const brief = await startTestServer(fixture.modelsDir, { resumeGraceMs: 300, resumeBufferMs: 1000 });
  t.teardown(() => brief.server.close());
  // Drop at the 12th frame; the resume then reaches the server only after its grace period is over.
  const proxy = await startFaultProxy(upstreamOf(brief.url), [
    { connection: 0, binaryFrame: 12, action: 'cut' },
    { connection: 1, action: 'hold-upstream', delayMs: 1500 },
  ]);
  t.teardown(() => proxy.close());
  const run = await runSong({ url: proxy.baseUrl, reconnect: { delayMs: 20 } }, song, sizes);
  t.same(run.problems, [], 'contiguous offsets from 0 to the input length, no repeats');
  t.equal(run.resumed.length, 0, 'not resumed');
  t.equal(run.reconnects.length, 1, 'one fallback to a new session');
  const ev = run.reconnects[0]!;
  t.equal(ev.reason.code, 'LIVESTEM_ERR_UNKNOWN_SESSION', 'the server refused the resume');
  t.equal(run.sessionIds.size, 2, 'a second session id');
  t.ok(ev.outputOffsetBase > 0 && ev.outputOffsetBase <= song[0]!.length, `new session output starts at caller offset ${ev.outputOffsetBase}`);
  t.equal(ev.inputSampleOffset, ev.outputOffsetBase, 'same rate: input restarts where output continues');
  // Before the fallback point the output is the first session's (identical to the reference); after it a new model
  // state separates the same input, so only mixture consistency holds exactly.
  for (const kind of KINDS) {
    const head = (x: Float32Array[]): Float32Array[] => x.map((ch) => ch.subarray(0, ev.outputOffsetBase));
    t.ok(maxAbsDiffPlanar(head(run.output[kind]!), head(reference.output[kind]!)) <= 1e-6, `${kind}: identical before the fallback`);
  }
  let mix = 0;
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < song[0]!.length; i++) mix = Math.max(mix, Math.abs(run.output['vocals']![c]![i]! + run.output['accompaniment']![c]![i]! - song[c]![i]!));
  }
  t.ok(mix < 1e-4, `vocals + accompaniment = input across the fallback (max |error| ${mix.toExponential(2)})`);
});
