/**
 * Short-lived, single-session tokens minted by POST /v1/tokens, so browsers connect without holding the API key.
 * Format: base64url(JSON {jti, exp}) "." base64url(HMAC-SHA256(payload)), signed with a per-process random key.
 * A token is accepted once: its id is remembered until it expires. Tokens therefore only work on the replica that
 * minted them; put the token endpoint and the stream behind the same sticky route.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
export class SessionTokens {
    now;
    key = randomBytes(32);
    used = new Map();
    constructor(now = Date.now) {
        this.now = now;
    }
    mint(ttlMs) {
        const expiresAtMs = this.now() + ttlMs;
        const payload = Buffer.from(JSON.stringify({ jti: randomUUID(), exp: expiresAtMs })).toString('base64url');
        return { token: `${payload}.${this.sign(payload)}`, expiresAtMs, ttlMs };
    }
    /** Verifies and consumes a token (a second use of the same token fails with `used`). */
    redeem(token) {
        const parts = token.split('.');
        if (parts.length !== 2 || !parts[0] || !parts[1])
            return { ok: false, reason: 'malformed' };
        const [payload, signature] = parts;
        const expected = Buffer.from(this.sign(payload), 'base64url');
        const given = Buffer.from(signature, 'base64url');
        if (given.length !== expected.length || !timingSafeEqual(given, expected))
            return { ok: false, reason: 'bad-signature' };
        let claims;
        try {
            claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        }
        catch {
            return { ok: false, reason: 'malformed' };
        }
        if (typeof claims.jti !== 'string' || typeof claims.exp !== 'number')
            return { ok: false, reason: 'malformed' };
        const now = this.now();
        this.forgetExpired(now);
        if (claims.exp <= now)
            return { ok: false, reason: 'expired' };
        if (this.used.has(claims.jti))
            return { ok: false, reason: 'used' };
        this.used.set(claims.jti, claims.exp);
        return { ok: true, tokenId: claims.jti };
    }
    sign(payload) {
        return createHmac('sha256', this.key).update(payload).digest('base64url');
    }
    forgetExpired(now) {
        for (const [id, exp] of this.used)
            if (exp <= now)
                this.used.delete(id);
    }
}
//# sourceMappingURL=session-tokens.js.map