/**
 * Log lines stay bounded whatever a client sends (string fields cut with a marker, one line ≤ LOG_LINE_MAX_BYTES),
 * repeated client-triggered lines are throttled per key, and client input quoted in errors is short.
 */
import t from 'tap';
import { LivestemError } from '../server/errors.ts';
import { LogThrottle, OVERFLOW_THROTTLE_KEY } from '../server/log-throttle.ts';
import { LOG_LINE_MAX_BYTES, createLogger, renderLogLine, type Logger } from '../server/log.ts';
import { LOG_STRING_MAX_CHARS, truncateForEcho, truncateText } from '../server/text-bounds.ts';

function capture(): { log: Logger; lines: string[]; records: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const bytes = (line: string): number => Buffer.byteLength(line, 'utf8');

t.test('truncateText / truncateForEcho', async (t) => {
  t.equal(truncateText('short', 10), 'short');
  t.equal(truncateText('abcdefghij', 4), 'abcd…(+6 chars)');
  t.equal(truncateText('a😀b', 2), 'a…(+3 chars)', 'a surrogate pair is never split');
  t.equal(truncateText('x'.repeat(1_000_000)).length, LOG_STRING_MAX_CHARS + '…(+999488 chars)'.length);
  t.equal(truncateForEcho('x'.repeat(1_000_000)), `${'x'.repeat(64)}…(+999936 chars)`);
  t.equal(truncateForEcho('a\nb\u0000c\u2028'), 'a\ufffdb\ufffdc\ufffd', 'control characters neutralised');
  t.equal(truncateForEcho('lstm'), 'lstm');
  t.equal(truncateForEcho('abcdef', 3), 'abc…(+3 chars)');
});

t.test('a 1 MB field becomes a short log line, nested values and errors included', async (t) => {
  const { log, lines, records } = capture();
  const huge = 'A'.repeat(1_000_000);
  const err = new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `invalid start at "model": ${huge}`, { cause: new Error(huge) });
  log.child({ remote: huge }).error('session error', { err, field: huge, nested: { deeper: [{ value: huge }] } });
  t.equal(lines.length, 1);
  t.ok(bytes(lines[0]!) <= LOG_LINE_MAX_BYTES, `line is ${bytes(lines[0]!)} bytes`);
  const record = records()[0]!;
  t.equal(record['msg'], 'session error');
  t.match(record['field'], /^A{512}…\(\+999488 chars\)$/);
  t.match(record['remote'], /^A{512}…/, 'child context too');
  t.match(record, { err: { name: 'LivestemError', code: 'LIVESTEM_ERR_BAD_MESSAGE', message: /…\(\+\d+ chars\)$/, cause: { message: /^A{512}…/ } } });
  t.match(record, { nested: { deeper: [{ value: /^A{512}…/ }] } });
});

t.test('one line never exceeds LOG_LINE_MAX_BYTES', async (t) => {
  const { log, lines, records } = capture();
  // Control characters escape to 6 bytes each in JSON; nested lists multiply that past even the tight bounds.
  const many: Record<string, unknown> = {};
  for (let i = 0; i < 200; i++) many[`f${i}`] = { list: Array(20).fill('\u0001'.repeat(600)) };
  log.warn('many fields', many);
  const wide = Array.from({ length: 40 }, (_, i) => ({ [`k${i}`]: '😀'.repeat(600) }));
  log.info('wide', Object.fromEntries(wide.map((o, i) => [`g${i}`, o])));
  log.info('huge key', { ['K'.repeat(100_000)]: 1 });
  log.info('M'.repeat(100_000));
  for (const line of lines) t.ok(bytes(line) <= LOG_LINE_MAX_BYTES, `${bytes(line)} bytes`);
  const [first, , , long] = records();
  t.match(first, { msg: 'many fields', logTruncated: true, level: 'warn', f0: { list: Array }, omittedFields: Number });
  t.ok((first!['omittedFields'] as number) > 150, 'says how many fields were left out');
  t.match(long!['msg'], /^M{512}…/);
});

t.test('logging never throws: cycles, BigInt, throwing getters, buffers, dates', async (t) => {
  const { log, records } = capture();
  const cyclic: Record<string, unknown> = { name: 'a' };
  cyclic['self'] = cyclic;
  const err = new Error('loop');
  err.cause = err;
  const getter = Object.defineProperty({}, 'boom', {
    enumerable: true,
    get() {
      throw new Error('no');
    },
  });
  const shared = { v: 1 };
  log.info('odd values', { cyclic, big: 10n, getter, err, buf: Buffer.alloc(1_000_000), at: new Date(0), list: Array(1000).fill(1), fn: () => 1, both: [shared, shared] });
  const r = records()[0]!;
  t.match(r, { cyclic: { name: 'a', self: '[circular]' }, big: '10', getter: { boom: '[unreadable]' }, buf: '[Buffer 1000000 bytes]', at: '1970-01-01T00:00:00.000Z' });
  t.same(r['both'], [{ v: 1 }, { v: 1 }], 'a shared (non-cyclic) object is written twice');
  t.equal((r['list'] as unknown[]).length, 51);
  t.equal((r['list'] as unknown[])[50], '…(+950 items)');
  t.ok(renderLogLine({ a: 1 }).length > 0);
});

t.test('LogThrottle: 10 lines per key and message per window, then one summary when the window rolls', async (t) => {
  let now = 0;
  const { log, records } = capture();
  const throttle = new LogThrottle({ windowMs: 10_000, maxLinesPerWindow: 10, now: () => now });
  let written = 0;
  for (let i = 0; i < 80; i++) if (throttle.log(log, 'info', '10.0.0.1', 'stream refused', { code: 'X', i })) written += 1;
  t.equal(written, 10, '10 of 80 written');
  t.ok(throttle.log(log, 'info', '10.0.0.2', 'stream refused'), 'another address has its own budget');
  t.ok(throttle.log(log, 'warn', '10.0.0.1', 'session error'), 'another message has its own budget');
  now = 9_999;
  t.notOk(throttle.log(log, 'info', '10.0.0.1', 'stream refused'), 'still the same window');
  now = 10_000;
  t.ok(throttle.log(log, 'info', '10.0.0.1', 'stream refused'), 'a new window');
  const summaries = records().filter((r) => String(r['msg']).startsWith('suppressed'));
  t.same(summaries.map((r) => [r['msg'], r['suppressedMsg'], r['throttleKey'], r['suppressed'], r['level']]), [['suppressed 71 similar lines', 'stream refused', '10.0.0.1', 71, 'info']]);
  t.equal(records().length, 10 + 1 + 1 + 1 + 1);
});

t.test('LogThrottle: ended windows are summarised without new lines for that key; memory is bounded', async (t) => {
  let now = 0;
  const { log, records } = capture();
  const throttle = new LogThrottle({ windowMs: 1000, maxLinesPerWindow: 1, maxKeys: 3, now: () => now });
  for (let i = 0; i < 3; i++) throttle.log(log, 'info', 'a', 'm');
  now = 1500;
  throttle.log(log, 'info', 'b', 'm'); // any call sweeps ended windows (at most once per window)
  t.same(records().map((r) => r['msg']), ['m', 'suppressed 2 similar lines', 'm'], 'the summary for a came without another line from a');
  t.equal(throttle.trackedKeys, 1, 'the ended window was forgotten');

  for (let i = 0; i < 1000; i++) throttle.log(log, 'info', `10.1.${i >> 8}.${i & 255}`, 'flood');
  t.ok(throttle.trackedKeys <= 3 + 1, `tracked ${throttle.trackedKeys}`);
  t.equal(records().filter((r) => r['msg'] === 'flood').length, 2 + 1, 'two own buckets, then one shared overflow bucket');
  t.equal(throttle.flush({ all: true }), 1, 'flush writes the pending summary');
  t.match(records().at(-1), { msg: 'suppressed 997 similar lines', throttleKey: OVERFLOW_THROTTLE_KEY, suppressedMsg: 'flood' });
  t.equal(throttle.trackedKeys, 0);
  t.equal(throttle.flush({ all: true }), 0, 'nothing pending');
});

t.test('LogThrottle bounds the key it stores and logs', async (t) => {
  const { log, records } = capture();
  const throttle = new LogThrottle({ maxLinesPerWindow: 1, now: () => 0 });
  throttle.log(log, 'info', 'k'.repeat(10_000), 'm');
  throttle.log(log, 'info', 'k'.repeat(10_000), 'm');
  throttle.flush({ all: true });
  t.match(records().at(-1), { msg: 'suppressed 1 similar lines', throttleKey: /^k{128}…/ });
});
