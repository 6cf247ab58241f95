/**
 * Who may open a stream: the Origin allow-list and the credential rules (API key or single-session token), decided
 * once per request at the transport edge. Returns a catalog error code, never throws.
 */
import type { ErrorCode } from '../errors.ts';
import { ApiKey, bearerCredential } from './api-key.ts';
import { SessionTokens } from './session-tokens.ts';

export interface AccessRequest {
  origin: string | undefined;
  authorization: string | undefined;
  /** `?token=` from the URL (browsers cannot set headers on a WebSocket). */
  queryToken: string | undefined;
}

export type AccessDecision = { ok: true; principal: 'anonymous' | 'api-key' | 'token' } | { ok: false; code: ErrorCode; detail: string };

export class AccessPolicy {
  readonly tokens: SessionTokens;
  private readonly apiKey: ApiKey | undefined;
  private readonly allowedOrigins: Set<string>;

  constructor(options: { apiKey: string | undefined; allowedOrigins: readonly string[]; tokens?: SessionTokens }) {
    this.apiKey = options.apiKey ? new ApiKey(options.apiKey) : undefined;
    this.allowedOrigins = new Set(options.allowedOrigins);
    this.tokens = options.tokens ?? new SessionTokens();
  }

  get authRequired(): boolean {
    return this.apiKey !== undefined;
  }

  checkOrigin(origin: string | undefined): AccessDecision {
    if (this.allowedOrigins.size === 0 || origin === undefined || this.allowedOrigins.has(origin)) {
      return { ok: true, principal: 'anonymous' };
    }
    return { ok: false, code: 'LIVESTEM_ERR_ORIGIN_NOT_ALLOWED', detail: `Origin ${origin} is not allowed` };
  }

  /** The API key only (minting tokens needs the key itself). */
  checkApiKey(authorization: string | undefined): AccessDecision {
    if (!this.apiKey) return { ok: true, principal: 'anonymous' };
    const credential = bearerCredential(authorization);
    if (credential !== undefined && this.apiKey.matches(credential)) return { ok: true, principal: 'api-key' };
    return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: 'a valid API key is required (Authorization: Bearer <key>)' };
  }

  /** A stream request: Origin, then API key or a token (header or query); a token is consumed here. */
  checkStream(request: AccessRequest): AccessDecision {
    const origin = this.checkOrigin(request.origin);
    if (!origin.ok || !this.apiKey) return origin;
    const credential = bearerCredential(request.authorization) ?? request.queryToken;
    if (credential === undefined) {
      return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: 'credentials required: Authorization: Bearer <key|token> or ?token=' };
    }
    if (this.apiKey.matches(credential)) return { ok: true, principal: 'api-key' };
    const check = this.tokens.redeem(credential);
    if (check.ok) return { ok: true, principal: 'token' };
    return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: `token rejected: ${check.reason}` };
  }
}
