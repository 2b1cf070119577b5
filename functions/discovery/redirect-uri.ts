/**
 * Redirect URI policy (pure), shared by registration (RFC 7591 §2) and the authorization
 * endpoint. Accepted:
 * - `https:` URIs (OAuth 2.1 §2.3.1, RFC 6749 §3.1.2.1);
 * - `http:` only on a loopback host — `localhost`, `127.0.0.0/8`, `[::1]` — with any port
 *   (RFC 8252 §7.3, §8.3);
 * - private-use schemes (RFC 8252 §7.1) only when listed in `discovery.allowed_redirect_schemes`
 *   (the config refuses `javascript`, `data`, `vbscript`, `file`).
 * - `https:` hosts only when listed in `discovery.allowed_redirect_hosts` (exact host, `*.domain`
 *   for subdomains, or `*` for any): the code goes to that host, so an open list would let anyone
 *   register a client that delivers codes to their own server (phishing; a link straight to the
 *   IdP's authorize endpoint skips the facade's consent page).
 * Always refused: relative URIs, fragments (RFC 6749 §3.1.2), userinfo, whitespace/control
 * characters, overlong values, and a scheme or host not written in its normalised form.
 *
 * Normalised form: the URI is checked in its parsed (WHATWG URL) form but registered at the IdP
 * and compared there as the raw string, so the two must say the same thing. `http://0x7f000001/`,
 * `http://2130706433/`, `http://127.1/`, fullwidth `ｌｏｃａｌｈｏｓｔ`, `[0:0:0:0:0:0:0:1]`, an
 * upper-case scheme or host, or an explicit default port all parse to a loopback or other host
 * that the raw text does not show, and another parser (the IdP's, the browser's) may read them
 * differently; they are refused, naming the normalised spelling (RFC 3986 §6.2.2.1 and §6.2.3).
 */

import { isLoopbackHost } from '../shared/http-bits.ts';

export const MAX_REDIRECT_URI_LENGTH = 2000;

/** Whether an https redirect host is allowed by `discovery.allowed_redirect_hosts`. */
export function httpsHostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  const h = hostname.toLowerCase();
  return allowedHosts.some((a) => {
    const p = a.toLowerCase();
    if (p === '*') return true;
    if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
    return h === p;
  });
}

/** Why a redirect URI is refused (client-safe text), or `undefined` when it is acceptable. */
export function redirectUriProblem(
  uri: unknown,
  allowedSchemes: readonly string[],
  allowedHttpsHosts: readonly string[] = ['*'],
): string | undefined {
  if (typeof uri !== 'string' || uri.length === 0) return 'redirect_uris entries must be non-empty strings';
  if (uri.length > MAX_REDIRECT_URI_LENGTH)
    return `redirect URI longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(uri))
    return 'redirect URI contains whitespace, control or backslash characters';
  if (uri.includes('#')) return 'redirect URI must not contain a fragment';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (!m) return 'redirect URI must be an absolute URI';
  const scheme = m[1]!.toLowerCase();
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'redirect URI must be an absolute URI';
  }
  if (u.username || u.password) return 'redirect URI must not contain user information';
  const canonical = canonicalPrefix(uri, scheme, u);
  if (canonical !== undefined)
    return `redirect URI scheme and host must be written in normalised form ("${canonical}")`;
  if (scheme === 'https') {
    if (!uri.toLowerCase().startsWith('https://') || !u.hostname) return 'redirect URI must have a host';
    if (!httpsHostAllowed(u.hostname, allowedHttpsHosts)) {
      return `https redirect URIs must be on a host listed in discovery.allowed_redirect_hosts ("${u.hostname}" is not)`;
    }
    return undefined;
  }
  if (scheme === 'http') {
    if (!uri.toLowerCase().startsWith('http://') || !isLoopbackHost(u.hostname)) {
      return 'http redirect URIs are only allowed on loopback hosts (localhost, 127.0.0.1, [::1])';
    }
    return undefined;
  }
  if (allowedSchemes.includes(scheme)) return undefined;
  return `redirect URI scheme "${scheme}" is not allowed`;
}

/**
 * `undefined` when the scheme and authority of `raw` are spelled exactly as the parsed URL `u`
 * spells them; else the normalised `scheme://host[:port]` (or `scheme:`) to use instead.
 */
function canonicalPrefix(raw: string, scheme: string, u: URL): string | undefined {
  const rest = raw.slice(scheme.length + 1);
  if (!rest.startsWith('//')) {
    // No authority (e.g. `com.example.app:/cb`): only the scheme can differ.
    return raw.startsWith(u.protocol) ? undefined : u.protocol;
  }
  const end = rest.slice(2).search(/[/?#]/);
  const rawPrefix = end === -1 ? raw : raw.slice(0, scheme.length + 3 + end);
  const normalised = `${u.protocol}//${u.host}`;
  return rawPrefix === normalised ? undefined : normalised;
}
