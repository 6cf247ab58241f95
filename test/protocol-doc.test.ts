import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ERROR_CATALOG, ERROR_CODES } from '../server/errors.ts';
import { FRAME_HEADER_BYTES, PROTOCOL_VERSION, SUPPORTED_SAMPLE_RATES_HZ, type StatsMessage } from '../client-sdk/src/protocol/index.ts';

const doc = await readFile(new URL('../docs/protocol.md', import.meta.url), 'utf8');

t.test('docs/protocol.md lists every error code with its close code, HTTP status and retryability', async (t) => {
  for (const code of ERROR_CODES) {
    const spec = ERROR_CATALOG[code];
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    t.ok(row, `${code} documented`);
    const cells = row?.split('|').map((c) => c.trim()) ?? [];
    t.equal(cells[2], String(spec.closeCode), `${code} close code`);
    t.equal(cells[3], String(spec.httpStatus), `${code} HTTP status`);
    t.equal(cells[4], spec.retryable ? 'yes' : 'no', `${code} retryable`);
  }
});

t.test('docs/protocol.md states the version, the rates and the frame header size the code uses', async (t) => {
  t.match(doc, new RegExp(`version ${PROTOCOL_VERSION}\\b`));
  t.match(doc, SUPPORTED_SAMPLE_RATES_HZ.join(', '));
  t.match(doc, `${FRAME_HEADER_BYTES}-byte header`);
});

t.test('docs/protocol.md §4 defines every field of the stats message, and its example has them all', async (t) => {
  // A literal of the full type: a field added to StatsMessage fails to compile here until it is listed.
  const example = {
    type: 'stats',
    id: 's1',
    sessionId: 'x',
    state: 'streaming',
    inputSamples: 0,
    outputSamples: 0,
    frames: 0,
    lateFrames: 0,
    bufferedInputMs: 0,
    sendBufferedBytes: 0,
    processingLatencyMs: { last: 0, mean: 0, max: 0 },
    serverAddedLatencyMs: { p50: 0, p99: 0, max: 0 },
    uptimeMs: 0,
    inputClampedSamples: 0,
    inputDroppedSamples: 0,
    inputIgnoredSamples: 0,
  } satisfies Required<StatsMessage>;
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.startsWith('**`stats`** —'));
  t.ok(start > 0, 'the stats section exists');
  const table = lines.slice(start).slice(lines.slice(start).findIndex((l) => l.startsWith('| field |')));
  const rows = table.slice(0, table.findIndex((l) => !l.startsWith('|')));
  const documented = new Set(rows.flatMap((r) => [...(r.split('|')[1] ?? '').matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!)));
  const exampleJson = doc.slice(doc.indexOf('{ "type": "stats"'), doc.indexOf('{ "type": "draining"'));
  for (const field of Object.keys(example).filter((k) => k !== 'type')) {
    t.ok(documented.has(field), `stats.${field} has a row in the field table`);
    t.match(exampleJson, `"${field}"`, `stats.${field} is in the example`);
  }
});
