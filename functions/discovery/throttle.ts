/**
 * What one facade instance remembers (pure, in memory, bounded): rate limits per key and the
 * sealed values already used. Each Lambda instance keeps its own, so both are per instance: the
 * limit an attacker meets grows with the instances they make the account start (the WAF rate rule
 * in the CloudFront variant is the account-wide limit), and a value used on one instance can still
 * be used once on another until it expires (docs/security.md, residual risks).
 */
export interface RateLimiter {
  /** Record one event for `key`; returns 0 if allowed, else the seconds until the next is. */
  take(key: string, now?: number): number;
  /** The seconds until `key` may have its next event (0: now), recording nothing. */
  retryAfter(key: string, now?: number): number;
}

/** Keys remembered at most (oldest forgotten first), so memory stays bounded under a flood. */
const MAX_KEYS = 10_000;
const WINDOW_MS = 60_000;

/** Insert `key` as the newest entry of `m` (Map order is the forgetting order), forgetting the oldest. */
function remember<V>(m: Map<string, V>, key: string, value: V, max = MAX_KEYS): void {
  m.delete(key);
  m.set(key, value);
  if (m.size > max) m.delete(m.keys().next().value!);
}

/** At most `perMinute` events per key in any sliding minute (0 = no limit). */
export function createRateLimiter(perMinute: number): RateLimiter {
  const seen = new Map<string, number[]>();
  const recentOf = (key: string, now: number) => (seen.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
  const wait = (recent: number[], now: number) =>
    recent.length >= perMinute ? Math.max(1, Math.ceil((recent[0]! + WINDOW_MS - now) / 1000)) : 0;
  return {
    take(key, now = Date.now()) {
      if (perMinute <= 0) return 0;
      const recent = recentOf(key, now);
      const w = wait(recent, now);
      if (w === 0) recent.push(now);
      remember(seen, key, recent);
      return w;
    },
    retryAfter(key, now = Date.now()) {
      return perMinute <= 0 ? 0 : wait(recentOf(key, now), now);
    },
  };
}

export interface ReplayGuard {
  /**
   * True the first time `id` is presented on this instance before `expiresAtMs`; false after.
   * Only for values that are otherwise valid (checked first), so junk cannot fill the memory.
   */
  firstUse(id: string, expiresAtMs: number, now?: number): boolean;
}

/**
 * Single use, as far as one instance can tell. Ids are kept until they expire; when `max` unexpired
 * ids are held the oldest is forgotten (it can then be used once more on this instance).
 */
export function createReplayGuard(max = MAX_KEYS): ReplayGuard {
  const used = new Map<string, number>();
  return {
    firstUse(id, expiresAtMs, now = Date.now()) {
      for (const [k, exp] of used) {
        if (exp > now) break; // oldest first; ids mostly expire in order
        used.delete(k);
      }
      const exp = used.get(id);
      if (exp !== undefined && exp > now) return false;
      remember(used, id, expiresAtMs, max);
      return true;
    },
  };
}
