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
