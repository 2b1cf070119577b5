/**
 * Redirect URI policy (pure), shared by registration (RFC 7591 §2) and the authorization
 * endpoint. Accepted:
 * - `https:` URIs (OAuth 2.1 §2.3.1, RFC 6749 §3.1.2.1);
 * - `http:` only on a loopback host — `localhost`, `127.0.0.0/8`, `[::1]` — with any port
 *   (RFC 8252 §7.3, §8.3);
 * - private-use schemes (RFC 8252 §7.1) only when listed in `discovery.allowed_redirect_schemes`
 *   (the config refuses `javascript`, `data`, `vbscript`, `file`).
 * Always refused: relative URIs, fragments (RFC 6749 §3.1.2), userinfo, whitespace/control
 * characters, overlong values.
 */

export const MAX_REDIRECT_URI_LENGTH = 2000;

const LOOPBACK_V4 = /^127(?:\.\d{1,3}){3}$/;

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || LOOPBACK_V4.test(h);
}

/** Why a redirect URI is refused (client-safe text), or `undefined` when it is acceptable. */
export function redirectUriProblem(uri: unknown, allowedSchemes: readonly string[]): string | undefined {
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
  if (scheme === 'https') {
    if (!uri.toLowerCase().startsWith('https://') || !u.hostname) return 'redirect URI must have a host';
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
