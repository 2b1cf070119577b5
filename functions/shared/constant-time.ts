/**
 * The one constant-time comparison of both functions (consent tokens, relay states, MACs, the
 * CloudFront origin secret).
 */
import { timingSafeEqual } from 'node:crypto';

/** Equal bytes, compared in constant time (a different length is simply unequal). */
export function sameBytes(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a) : a;
  const y = typeof b === 'string' ? Buffer.from(b) : b;
  return x.length === y.length && timingSafeEqual(x, y);
}
