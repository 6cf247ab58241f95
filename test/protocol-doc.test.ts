import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ERROR_CATALOG, ERROR_CODES } from '../server/errors.ts';
import { FRAME_HEADER_BYTES, PROTOCOL_VERSION, SUPPORTED_SAMPLE_RATES_HZ } from '../client-sdk/src/protocol/index.ts';

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
