import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import t from 'tap';
import { StreamClient, exportTestModel, pcmBytes, testSong } from './helpers/server-harness.ts';

const fixture = await exportTestModel(17);
t.teardown(() => fixture.cleanup());

t.test('npm start entry: SIGTERM drains (readyz 503, new sessions refused, active ones finish), then exits 0', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', '0', '--host', '127.0.0.1', '--drain-timeout-ms', '3000'], {
    env: { ...process.env, LIVESTEM_MODELS_DIR: fixture.modelsDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const logs: Array<Record<string, unknown>> = [];
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      logs.push(record);
      if (record['msg'] === 'listening') resolve(record['port'] as number);
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  const port = await listening;
  const base = `http://127.0.0.1:${port}`;
  t.ok(logs.some((l) => l['msg'] === 'model loaded' && l['executionProvider'] === 'cpu'), 'logs which execution provider is active');

  const rate = 16000;
  const song = testSong(rate, rate, 1, 5);
  const active = new StreamClient(`ws://127.0.0.1:${port}/v1/stream`);
  await active.start({ sampleRateHz: rate, channels: 1, format: 's16le' });
  active.ws.send(pcmBytes(song, 0, rate / 2, 's16le'));
  await active.until(() => active.received('vocals') > 0, 'output');

  child.kill('SIGTERM');
  const draining = await active.waitFor('draining');
  t.equal(draining['deadlineMs'], 3000);
  // The active session keeps streaming and, left unfinished, is flushed and closed at the deadline.
  active.ws.send(pcmBytes(song, rate / 2, rate, 's16le'));
  t.equal((await fetch(`${base}/readyz`)).status, 503, 'not ready while draining');
  const late = new StreamClient(`ws://127.0.0.1:${port}/v1/stream`);
  await late.opened;
  late.sendJson({ type: 'start', sampleRateHz: rate, channels: 1, format: 's16le' });
  t.same(await late.expectError(), { code: 'LIVESTEM_ERR_DRAINING', closeCode: 1012 }, 'no new sessions');

  const done = await active.waitFor('done', 10_000);
  t.equal(done['reason'], 'shutdown');
  t.equal(done['outputSamples'], rate, 'everything it sent came out');
  t.equal(await active.closed, 1001);
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0, 'process exits 0 after the drain');
});

t.test('--help prints the options and exits 0; a bad flag exits 2', async (t) => {
  const help = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  help.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const [helpCode] = (await once(help, 'exit')) as [number];
  t.equal(helpCode, 0);
  t.match(text, /--port\s+PORT/);
  t.match(text, /LIVESTEM_API_KEY/);
  const bad = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [badCode] = (await once(bad, 'exit')) as [number];
  t.equal(badCode, 2);
  t.match(err, /--port: "eighty" is not a number/);
});
