import t from 'tap';
import { ConfigError, helpText, loadConfig } from '../server/config.ts';

const load = (argv: string[], env: Record<string, string> = {}) => {
  const r = loadConfig(argv, env);
  if (r.help) throw new Error('unexpected help');
  return r.config;
};

t.test('defaults: npm start serves lstm from models/ on 0.0.0.0:8080 on CPU', async (t) => {
  const c = load([]);
  t.match(c, { host: '0.0.0.0', port: 8080, modelsDir: 'models', defaultModel: 'lstm', provider: 'cpu', maxBatch: 128 });
  t.equal(c.apiKey, undefined);
});

t.test('flags win over env; env works alone; API key only from env', async (t) => {
  t.equal(load(['--port', '9000'], { PORT: '7000' }).port, 9000);
  t.equal(load([], { PORT: '7000' }).port, 7000);
  t.equal(load([], { LIVESTEM_EXECUTION_PROVIDER: 'cuda' }).provider, 'cuda');
  t.same(load([], { LIVESTEM_ALLOWED_ORIGINS: 'https://a, https://b' }).allowedOrigins, ['https://a', 'https://b']);
  t.equal(load([], { LIVESTEM_API_KEY: 'x'.repeat(16) }).apiKey, 'x'.repeat(16));
  t.throws(() => load(['--api-key', 'x'.repeat(16)]), ConfigError, 'no --api-key flag (secrets stay out of ps)');
});

t.test('invalid values are refused with the field named', async (t) => {
  t.throws(() => load(['--port', '70000']), /port/);
  t.throws(() => load(['--provider', 'tpu']), /provider/);
  t.throws(() => load(['--max-batch', 'many']), /--max-batch: "many" is not a number/);
  t.throws(() => load([], { LIVESTEM_API_KEY: 'short' }), /at least 16/);
  t.throws(() => load(['--resume-buffer-ms', '100', '--max-buffered-input-ms', '2000']), /resumeBufferMs/);
  t.same(loadConfig(['--help'], {}), { help: true });
});

t.test('--help states the auth rules the routes apply', async (t) => {
  const help = helpText();
  t.notMatch(help, /every request/, 'not all routes need the key');
  t.match(help, /LIVESTEM_API_KEY/);
  t.match(help, /GET \/metrics, GET \/v1\/models, POST \/v1\/tokens: Authorization: Bearer <key>/);
  t.match(help, /GET \/healthz, GET \/readyz: open/);
  t.match(help, /\?token=<token>/);
  t.match(help, /never accepted in the URL/);
});
