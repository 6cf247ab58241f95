import { spawnSync } from 'node:child_process';
import t from 'tap';
import { StreamClient, exportTestModel, startTestServer, streamSignal, testSong } from './helpers/server-harness.ts';

const fixture = await exportTestModel(15);
t.teardown(() => fixture.cleanup());
const { server, url } = await startTestServer(fixture.modelsDir);
t.teardown(() => server.close());

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name}{`) === false && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

t.test('a live server /metrics passes `promtool check metrics` and counts what happened', async (t) => {
  const rate = 22050;
  const client = new StreamClient(url);
  await client.start({ sampleRateHz: rate, channels: 2, format: 's16le' });
  await streamSignal(client, testSong(rate, rate, 2, 3), 's16le', [2205]);
  await client.finish();
  const refused = new StreamClient(url);
  await refused.opened;
  refused.sendJson({ type: 'start', sampleRateHz: 1234, channels: 2, format: 's16le' });
  await refused.expectError();

  const response = await fetch(`${server.httpUrl}/metrics`);
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type') ?? '', /text\/plain/);
  const text = await response.text();

  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(promtool.error, undefined, 'promtool runs (installed by scripts/setup-system.sh)');
  t.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);

  t.equal(sample(text, 'livestem_sessions_started_total'), 1);
  t.equal(sample(text, 'livestem_sessions_active'), 0);
  t.equal(sample(text, 'livestem_sessions_rejected_total', '{reason="LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE"}'), 1);
  t.equal(sample(text, 'livestem_sessions_ended_total', '{outcome="done"}'), 1);
  t.equal(sample(text, 'livestem_input_frames_total'), 10);
  t.ok((sample(text, 'livestem_model_frames_total') ?? 0) >= Math.floor(44100 / 256), 'model frames counted');
  t.ok((sample(text, 'livestem_batch_size_count', '{model="lstm"}') ?? 0) > 0, 'batch size histogram');
  t.ok((sample(text, 'livestem_inference_seconds_count', '{model="lstm"}') ?? 0) > 0, 'inference time histogram');
  t.ok((sample(text, 'livestem_hop_processing_seconds_count') ?? 0) > 0, 'per-hop latency histogram');
  t.equal(sample(text, 'livestem_output_frames_total', '{kind="vocals"}'), sample(text, 'livestem_output_frames_total', '{kind="accompaniment"}'));
  t.match(text, /^livestem_late_frames_total \d+/m, 'late frames counter');
  t.match(text, /^livestem_batch_queue_depth\{model="lstm"\} 0/m, 'queue depth gauge');
  t.match(text, /^nodejs_eventloop_lag_seconds /m, 'event-loop lag');
  t.notMatch(text, /nodejs_active_handles_total/, 'the gauges promtool rejects are removed');
});

t.test('health, readiness, model list and unknown routes', async (t) => {
  const health = await fetch(`${server.httpUrl}/healthz`);
  t.same(await health.json(), { status: 'ok' });
  const ready = await fetch(`${server.httpUrl}/readyz`);
  t.equal(ready.status, 200);
  t.equal(((await ready.json()) as { status: string }).status, 'ready');
  const models = (await (await fetch(`${server.httpUrl}/v1/models`)).json()) as { models: Array<Record<string, unknown>> };
  t.same(models.models.map((m) => [m['name'], m['hopSamples'], m['latencySamples'], m['default']]), [['lstm', 256, 768, true]]);
  const missing = await fetch(`${server.httpUrl}/nope`);
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as { error: { code: string } }).error.code, 'LIVESTEM_ERR_NOT_FOUND');
  const plain = await fetch(`${server.httpUrl}/v1/stream`);
  t.equal(plain.status, 426, 'the stream endpoint needs a WebSocket upgrade');
});
