/**
 * Verified access tokens, remembered for a short while: a client sends the same token with every
 * call until it expires, and checking its RS256/ES256 signature again (WebCrypto, an async job per
 * call) was the biggest CPU cost of a warm request (docs/performance.md). Only successes are kept;
 * a hit needs the exact token bytes and the same accepted audiences, and lasts no longer than the
 * token is valid (its `exp`, with the clock skew it was accepted under) nor than `maxAgeMs`, so a
 * key withdrawn from the JWKS stops being honoured for cached tokens within that bound too.
 * Bounded in entries (the oldest goes first). Per instance, like the JWKS cache.
 */
import type { Identity, TokenVerifier } from './token.ts';

export interface VerifiedCacheOptions {
  readonly clockSkewSeconds: number;
  /** Longest an entry is reused, however long the token is valid. @default 60000 */
  readonly maxAgeMs?: number;
  /** Most entries kept. @default 1000 */
  readonly maxEntries?: number;
  /** The clock (ms). @default Date.now */
  readonly now?: () => number;
}

export function cachingVerifier<V extends TokenVerifier>(inner: V, opts: VerifiedCacheOptions): V {
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 1000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { readonly identity: Identity; readonly until: number }>();

  const verify = async (token: string, audiences: readonly string[]): Promise<Identity> => {
    // A b64token has no `[` or `"`: token and audience list cannot run into each other.
    const key = `${token}${JSON.stringify(audiences)}`;
    const hit = entries.get(key);
    if (hit && now() < hit.until) return hit.identity;
    entries.delete(key);
    const identity = await inner.verify(token, audiences);
    const t = now();
    const exp = identity.claims.exp;
    const until = Math.min(t + maxAgeMs, typeof exp === 'number' ? (exp + opts.clockSkewSeconds) * 1000 : 0);
    if (until > t && maxEntries > 0) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { identity, until });
    }
    return identity;
  };
  return { ...inner, verify };
}
