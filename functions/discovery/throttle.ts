/**
 * A per-instance rate limit (pure, in memory): at most `perMinute` events per key in any sliding
 * minute. Used for anonymous registrations per source address, so one caller cannot create IdP
 * clients without bound (quota exhaustion, orphans) from one instance. Each Lambda instance keeps
 * its own counts: the limit an attacker meets grows with the instances they make the account
 * start; the WAF rate rule in the CloudFront variant is the account-wide limit.
 */
export interface RateLimiter {
  /** Record one event for `key`; returns 0 if allowed, else the seconds until the next is. */
  take(key: string, now?: number): number;
}

/** Keys remembered at most (oldest forgotten first), so memory stays bounded under a flood. */
const MAX_KEYS = 10_000;
const WINDOW_MS = 60_000;

export function createRateLimiter(perMinute: number): RateLimiter {
  const seen = new Map<string, number[]>();
  return {
    take(key, now = Date.now()) {
      if (perMinute <= 0) return 0;
      const recent = (seen.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
      if (recent.length >= perMinute) {
        seen.set(key, recent);
        return Math.max(1, Math.ceil((recent[0]! + WINDOW_MS - now) / 1000));
      }
      recent.push(now);
      seen.delete(key); // re-insert: Map order is the forgetting order
      seen.set(key, recent);
      if (seen.size > MAX_KEYS) seen.delete(seen.keys().next().value!);
      return 0;
    },
  };
}
