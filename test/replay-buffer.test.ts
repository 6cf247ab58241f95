/**
 * The replay buffer keeps output in rings, not the delivered arrays: what it replays is sample-exact across the
 * ring's wrap, per kind as each span was delivered (a `configure` between spans), cut at the requested offset, and
 * bounded to the retained samples; replayed arrays are copies the ring never overwrites.
 */
import t from 'tap';
import type { DeliveredOutput } from '../server/session/connection.ts';
import { ReplayBuffer } from '../server/session/replay-buffer.ts';

/** Sample i of channel c of kind k is k·1e6 + c·1e5 + i: every sample says where it came from. */
function span(sampleOffset: number, sampleCount: number, kinds: Array<'vocals' | 'accompaniment'>): DeliveredOutput {
  const tag = (k: string): number => (k === 'vocals' ? 1e6 : 2e6);
  return {
    sampleOffset,
    sampleCount,
    streams: kinds.map((kind) => ({
      kind,
      samples: [0, 1].map((c) => Float32Array.from({ length: sampleCount }, (_, i) => tag(kind) + c * 1e5 + sampleOffset + i)),
    })),
    vad: undefined,
  };
}

t.test('replay is sample-exact across the ring wrap, per kind as delivered, and bounded', async (t) => {
  // ring of 100 + 30 samples
  const replay = new ReplayBuffer(100, 30);
  let offset = 0;
  let configuredAt = 0;
  for (let i = 0; i < 20; i++) {
    const count = 7 + (i % 5);
    if (i === 15) configuredAt = offset;
    replay.add(span(offset, count, i < 15 ? ['vocals', 'accompaniment'] : ['vocals']));
    offset += count;
  }
  t.equal(replay.producedSamples, offset);
  t.ok(replay.oldestOffset <= offset - 100 && replay.oldestOffset > offset - 130, `keeps the last 100 samples (oldest ${replay.oldestOffset} of ${offset})`);
  t.match(replay.check(replay.oldestOffset - 1), { ok: false });
  const from = offset - 95;
  const spans = replay.replay(from);
  t.equal(spans[0]!.sampleOffset, from, 'cut at the requested offset');
  let expected = from;
  for (const s of spans) {
    t.equal(s.sampleOffset, expected, 'contiguous');
    t.same(s.streams.map((x) => x.kind), s.sampleOffset < configuredAt ? ['vocals', 'accompaniment'] : ['vocals'], 'kinds as delivered');
    for (const stream of s.streams) {
      const tag = stream.kind === 'vocals' ? 1e6 : 2e6;
      stream.samples.forEach((ch, c) => {
        const wrong = ch.findIndex((v, i) => v !== tag + c * 1e5 + s.sampleOffset + i);
        t.equal(wrong, -1, `${stream.kind}[${c}] ${s.sampleOffset}+${s.sampleCount} exact`);
      });
    }
    expected += s.sampleCount;
  }
  t.equal(expected, offset, 'up to the newest sample');
  const copy = spans[0]!.streams[0]!.samples[0]!;
  const before = copy[0];
  for (let i = 0; i < 20; i++) replay.add(span(offset + i * 10, 10, ['vocals']));
  t.equal(copy[0], before, 'a replayed array is not overwritten by later output');
});

t.test('a span longer than the ring keeps its newest samples', async (t) => {
  const replay = new ReplayBuffer(10, 5);
  replay.add(span(0, 40, ['vocals']));
  t.equal(replay.oldestOffset, 25);
  const [only] = replay.replay(25);
  t.equal(only!.sampleCount, 15);
  t.equal(only!.streams[0]!.samples[1]![0], 1e6 + 1e5 + 25);
});
