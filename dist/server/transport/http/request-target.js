/**
 * The request target (`req.url`) of an HTTP request, parsed without ever throwing. `new URL(req.url, base)` throws on
 * targets such as `//`, `//[` or `//:99999` (a leading `//` is read as a host), which turned `GET //` into a 500
 * and an error log line per request; and `/\host` quietly becomes host `host`. Every transport that routes on the
 * path should use this and answer `undefined` with 400 LIVESTEM_ERR_BAD_MESSAGE.
 */
// Only origin-form is served (RFC 9112 §3.2.1): absolute-form (`http://h/p`), authority-form and asterisk-form
// (`*`) are for proxies and OPTIONS, which this server is not and does not answer.
const PARSE_BASE = 'http://localhost';
// Whitespace and control characters never appear in a valid target; `\` is read as `/` by the URL parser (path
// confusion); `#` starts a fragment, which clients never send.
const FORBIDDEN = /[\u0000-\u0020\u007f\\#]/;
/** A `.` or `..` segment, also percent-encoded: `/v1/../metrics` would otherwise reach `/metrics` behind a proxy's back. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/**
 * `{ pathname, searchParams }` for an origin-form target (`/path` or `/path?query`), `undefined` for anything else:
 * missing, not starting with exactly one `/`, containing whitespace, control characters, `\` or `#`, containing a
 * dot segment, or not parseable. Pure; never throws.
 */
export function parseRequestTarget(rawUrl) {
    if (typeof rawUrl !== 'string' || rawUrl[0] !== '/' || rawUrl[1] === '/')
        return undefined;
    if (FORBIDDEN.test(rawUrl))
        return undefined;
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    if (rawPath.split('/').some((segment) => DOT_SEGMENT.test(segment)))
        return undefined;
    let url;
    try {
        url = new URL(rawUrl, PARSE_BASE);
    }
    catch {
        return undefined;
    }
    // Belt and braces: whatever the parser made of it, it must still be a path on this server.
    if (url.origin !== PARSE_BASE)
        return undefined;
    return { pathname: url.pathname, searchParams: url.searchParams };
}
//# sourceMappingURL=request-target.js.map