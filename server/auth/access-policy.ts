/**
 * Who may open a stream: the Origin allow-list and the credential rules (API key in the Authorization header, or a
 * single-session token in the header or the query), decided once per request at the transport edge. Returns a
 * catalog error code, never throws.
 */
import type { ErrorCode } from '../errors.ts';
import { ApiKey, bearerCredential } from './api-key.ts';
import { SessionTokens } from './session-tokens.ts';
import { truncateForEcho } from '../text-bounds.ts';

export interface AccessRequest {
  origin: string | undefined;
  authorization: string | undefined;
  /** `?token=` from the URL (browsers cannot set headers on a WebSocket): a minted token only, never the API key. */
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
    // The Origin header is client input: quote a bounded piece of it, not all of it.
    return { ok: false, code: 'LIVESTEM_ERR_ORIGIN_NOT_ALLOWED', detail: `Origin ${truncateForEcho(origin)} is not allowed` };
  }

  /**
   * The API key only: minting tokens, /metrics and /v1/models need the key itself. Never consumes a token (tokens
   * are single-session stream credentials; a token sent here is simply not the key).
   */
  checkApiKey(authorization: string | undefined): AccessDecision {
    if (!this.apiKey) return { ok: true, principal: 'anonymous' };
    const credential = bearerCredential(authorization);
    if (credential !== undefined && this.apiKey.matches(credential)) return { ok: true, principal: 'api-key' };
    return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: 'a valid API key is required (Authorization: Bearer <key>)' };
  }

  /**
   * A stream request: Origin, then credentials. `Authorization: Bearer` may carry the API key or a token; the
   * `?token=` query only a token — a URL ends up in proxy logs, browser history and Referer headers, and browsers
   * (the only clients that need the query) must never hold the key. A token is consumed here. When both are present
   * the header decides.
   */
  checkStream(request: AccessRequest): AccessDecision {
    const origin = this.checkOrigin(request.origin);
    if (!origin.ok || !this.apiKey) return origin;
    const header = bearerCredential(request.authorization);
    if (header !== undefined) {
      if (this.apiKey.matches(header)) return { ok: true, principal: 'api-key' };
      return this.redeem(header);
    }
    const query = request.queryToken;
    if (query === undefined || query === '') {
      return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: 'credentials required: Authorization: Bearer <key|token> or ?token=<token>' };
    }
    if (this.apiKey.matches(query)) {
      return {
        ok: false,
        code: 'LIVESTEM_ERR_UNAUTHORIZED',
        detail: 'the API key is not accepted in the URL: send it as Authorization: Bearer <key>, or put a token from POST /v1/tokens in ?token=',
      };
    }
    return this.redeem(query);
  }

  private redeem(credential: string): AccessDecision {
    const check = this.tokens.redeem(credential);
    if (check.ok) return { ok: true, principal: 'token' };
    return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: `token rejected: ${check.reason}` };
  }
}
