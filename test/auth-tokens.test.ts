import t from 'tap';
import { AccessPolicy } from '../server/auth/access-policy.ts';
import { ApiKey, bearerCredential } from '../server/auth/api-key.ts';
import { SessionTokens } from '../server/auth/session-tokens.ts';

t.test('single-session tokens: valid once, expire, reject tampering', async (t) => {
  let now = 1_000_000;
  const tokens = new SessionTokens(() => now);
  const a = tokens.mint(30_000);
  t.equal(a.expiresAtMs, 1_030_000);
  t.same(tokens.redeem(a.token).ok, true);
  t.same(tokens.redeem(a.token), { ok: false, reason: 'used' });
  const b = tokens.mint(30_000);
  now += 30_000;
  t.same(tokens.redeem(b.token), { ok: false, reason: 'expired' });
  const c = tokens.mint(30_000);
  const [payload, signature] = c.token.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ jti: 'x', exp: now + 1e9 })).toString('base64url');
  t.same(tokens.redeem(`${forged}.${signature}`), { ok: false, reason: 'bad-signature' });
  t.same(tokens.redeem(`${payload}`), { ok: false, reason: 'malformed' });
  t.same(new SessionTokens(() => now).redeem(c.token), { ok: false, reason: 'bad-signature' }, 'another server instance signs differently');
});

t.test('API key compare and bearer parsing', async (t) => {
  const key = new ApiKey('correct-horse-battery-staple');
  t.ok(key.matches('correct-horse-battery-staple'));
  t.notOk(key.matches('correct-horse-battery-stapl'));
  t.notOk(key.matches(''));
  t.equal(bearerCredential('Bearer abc'), 'abc');
  t.equal(bearerCredential('bearer   abc '), 'abc');
  t.equal(bearerCredential('Basic abc'), undefined);
  t.equal(bearerCredential(undefined), undefined);
});

t.test('access policy: no key configured admits anyone; Origin list applies to browsers only', async (t) => {
  const open = new AccessPolicy({ apiKey: undefined, allowedOrigins: [] });
  t.same(open.checkStream({ origin: 'https://x', authorization: undefined, queryToken: undefined }), { ok: true, principal: 'anonymous' });
  const strict = new AccessPolicy({ apiKey: 'k'.repeat(20), allowedOrigins: ['https://app'] });
  t.same(strict.checkStream({ origin: undefined, authorization: `Bearer ${'k'.repeat(20)}`, queryToken: undefined }), { ok: true, principal: 'api-key' });
  const token = strict.tokens.mint(5000).token;
  t.same(strict.checkStream({ origin: 'https://app', authorization: undefined, queryToken: token }), { ok: true, principal: 'token' });
  t.match(strict.checkStream({ origin: 'https://evil', authorization: `Bearer ${'k'.repeat(20)}`, queryToken: undefined }), { ok: false, code: 'LIVESTEM_ERR_ORIGIN_NOT_ALLOWED' });
  t.match(strict.checkApiKey(`Bearer ${token}`), { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED' }, 'a token cannot mint tokens');
});

t.test('stream credentials: the key only in the Authorization header, tokens in the header or ?token=', async (t) => {
  const key = 'k'.repeat(20);
  const policy = new AccessPolicy({ apiKey: key, allowedOrigins: [] });
  const stream = (authorization: string | undefined, queryToken: string | undefined) => policy.checkStream({ origin: undefined, authorization, queryToken });

  const inUrl = stream(undefined, key);
  t.match(inUrl, { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: /not accepted in the URL/ }, 'the raw key as ?token= is refused');
  t.notMatch(inUrl.ok ? '' : inUrl.detail, key, 'and the refusal does not repeat it');
  t.same(stream(`Bearer ${key}`, undefined), { ok: true, principal: 'api-key' }, 'the key in the header');
  t.same(stream(`Bearer ${key}`, key), { ok: true, principal: 'api-key' }, 'with both, the header decides');
  t.same(stream(undefined, policy.tokens.mint(5000).token), { ok: true, principal: 'token' }, 'a token in the query');
  const headerToken = policy.tokens.mint(5000).token;
  t.same(stream(`Bearer ${headerToken}`, undefined), { ok: true, principal: 'token' }, 'a token in the header');
  t.match(stream(`Bearer ${headerToken}`, undefined), { ok: false, detail: 'token rejected: used' }, 'consumed by its first use');
  t.match(stream(undefined, ''), { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: /credentials required/ }, 'an empty ?token=');
  t.match(stream(undefined, 'not-a-token'), { ok: false, detail: 'token rejected: malformed' });
  t.match(stream('Bearer wrong', policy.tokens.mint(5000).token), { ok: false, detail: /token rejected/ }, 'a bad header is not rescued by the query');
});

t.test('checkApiKey never consumes a token; a long Origin is quoted bounded', async (t) => {
  const policy = new AccessPolicy({ apiKey: 'k'.repeat(20), allowedOrigins: ['https://app'] });
  const token = policy.tokens.mint(5000).token;
  t.match(policy.checkApiKey(`Bearer ${token}`), { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED' });
  t.same(policy.checkStream({ origin: 'https://app', authorization: undefined, queryToken: token }), { ok: true, principal: 'token' }, 'still unused');
  const refused = policy.checkOrigin(`https://${'x'.repeat(100_000)}`);
  t.ok(!refused.ok && refused.detail.length < 120, 'Origin echo bounded');
});
