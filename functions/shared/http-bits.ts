/**
 * Small HTTP predicates shared by both functions and the config (pure).
 */

/**
 * The one loopback test: hosts as WHATWG URL parsing normalises them, `localhost`, 127.0.0.0/8,
 * `[::1]` (RFC 8252 §7.3, §8.3). Not `*.localhost`: the config refuses plain http there.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** The same for a `host[:port]` authority (a `Host` header, a Function URL domain name). */
export function isLoopbackAuthority(authority: string): boolean {
  return isLoopbackHost(authority.replace(/:\d+$/, ''));
}

/** The value of cookie `name` in a `Cookie` request header. */
export function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The media type of a `Content-Type` value, lower-cased, without parameters (RFC 9110 §8.3.1). */
export function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
