import { ApiKey, bearerCredential } from "./api-key.js";
import { SessionTokens } from "./session-tokens.js";
import { truncateForEcho } from "../text-bounds.js";
export class AccessPolicy {
    tokens;
    apiKey;
    allowedOrigins;
    constructor(options) {
        this.apiKey = options.apiKey ? new ApiKey(options.apiKey) : undefined;
        this.allowedOrigins = new Set(options.allowedOrigins);
        this.tokens = options.tokens ?? new SessionTokens();
    }
    get authRequired() {
        return this.apiKey !== undefined;
    }
    checkOrigin(origin) {
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
    checkApiKey(authorization) {
        if (!this.apiKey)
            return { ok: true, principal: 'anonymous' };
        const credential = bearerCredential(authorization);
        if (credential !== undefined && this.apiKey.matches(credential))
            return { ok: true, principal: 'api-key' };
        return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: 'a valid API key is required (Authorization: Bearer <key>)' };
    }
    /**
     * A stream request: Origin, then credentials. `Authorization: Bearer` may carry the API key or a token; the
     * `?token=` query only a token — a URL ends up in proxy logs, browser history and Referer headers, and browsers
     * (the only clients that need the query) must never hold the key. A token is consumed here. When both are present
     * the header decides.
     */
    checkStream(request) {
        const origin = this.checkOrigin(request.origin);
        if (!origin.ok || !this.apiKey)
            return origin;
        const header = bearerCredential(request.authorization);
        if (header !== undefined) {
            if (this.apiKey.matches(header))
                return { ok: true, principal: 'api-key' };
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
    redeem(credential) {
        const check = this.tokens.redeem(credential);
        if (check.ok)
            return { ok: true, principal: 'token' };
        return { ok: false, code: 'LIVESTEM_ERR_UNAUTHORIZED', detail: `token rejected: ${check.reason}` };
    }
}
//# sourceMappingURL=access-policy.js.map