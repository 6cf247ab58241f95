/**
 * API key and bearer-credential checks. Keys are compared in constant time over their SHA-256 digests, so neither
 * the content nor the length of the configured key leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class ApiKey {
  private readonly expected: Buffer;

  constructor(key: string) {
    this.expected = digest(key);
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.expected);
  }
}

/** `Authorization: Bearer <credential>` → credential; undefined when absent or another scheme. */
export function bearerCredential(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
