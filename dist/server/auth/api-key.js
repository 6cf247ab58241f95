/**
 * API key and bearer-credential checks. Keys are compared in constant time over their SHA-256 digests, so neither
 * the content nor the length of the configured key leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
function digest(value) {
    return createHash('sha256').update(value, 'utf8').digest();
}
export class ApiKey {
    expected;
    constructor(key) {
        this.expected = digest(key);
    }
    matches(candidate) {
        return timingSafeEqual(digest(candidate), this.expected);
    }
}
/** `Authorization: Bearer <credential>` → credential; undefined when absent or another scheme. */
export function bearerCredential(header) {
    if (!header)
        return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
}
//# sourceMappingURL=api-key.js.map