/**
 * Discovery of an issuer's metadata, for both functions (the proxy looks up the JWKS of the token
 * issuer, the facade the endpoints of its IdP): where to look (OpenID Connect Discovery §4, then
 * RFC 8414 §3.1) and which document may be used. RFC 8414 §3.3 (and OIDC Discovery §4.3): the
 * document's `issuer` MUST be identical to the issuer it was fetched for, else its data MUST NOT
 * be used; compared exactly, as tokens' `iss` is. The HTTP call is the caller's edge.
 */

export const OIDC_WELL_KNOWN = '/.well-known/openid-configuration';
export const AS_WELL_KNOWN = '/.well-known/oauth-authorization-server';

/** Where the metadata of `issuer` may be, in the order tried. */
export function metadataUrls(issuer: string): string[] {
  const base = issuer.replace(/\/+$/, '');
  const u = new URL(base);
  const path = u.pathname === '/' ? '' : u.pathname; // no trailing slash: `base` has none
  return [...new Set([`${base}${OIDC_WELL_KNOWN}`, `${u.origin}${AS_WELL_KNOWN}${path}`])];
}

/** One candidate's answer: its status and, when the body is one, the JSON object. */
export interface MetadataReply {
  readonly status: number;
  readonly json?: Record<string, unknown>;
}

export type Discovered =
  | { readonly ok: true; readonly doc: Record<string, unknown>; readonly url: string }
  | { readonly ok: false; readonly reason: string };

/**
 * The first document at `urls` that is a 200 JSON object for exactly `issuer` and has every
 * `required` member as a string; else why none was (for the log). `get` may throw to stop.
 */
export async function discoverMetadata(
  issuer: string,
  urls: readonly string[],
  get: (url: string) => Promise<MetadataReply>,
  required: readonly string[] = [],
  /**
   * `issuer` is the deployment's `default.base_url`, not a configured issuer: the document may
   * spell it with or without one trailing slash (Auth0's issuers end with one), and its own
   * spelling is then the exact issuer.
   */
  fromBaseUrl = false,
): Promise<Discovered> {
  let reason = 'no metadata URL';
  for (const url of urls) {
    const r = await get(url);
    // `null` is an object too, and falls to `!doc` below.
    const doc = r.status === 200 && typeof r.json === 'object' ? r.json : undefined;
    const missing = doc && required.find((m) => typeof doc[m] !== 'string');
    if (!doc) reason = `${url} answered HTTP ${r.status} without a JSON object`;
    else if (!sameIssuer(doc.issuer, issuer, fromBaseUrl))
      reason = `${url} has issuer ${String(doc.issuer)}, expected ${issuer}`;
    else if (missing) reason = `${url} has no ${missing}`;
    else return { ok: true, doc, url };
  }
  return { ok: false, reason };
}

/** Exactly equal; or, for an issuer taken from a base URL, equal but for one trailing slash. */
export function sameIssuer(documented: unknown, issuer: string, fromBaseUrl: boolean): boolean {
  if (documented === issuer) return true;
  if (!fromBaseUrl) return false; // (a documented issuer that is no string equals neither below)
  const bare = issuer.replace(/\/$/, '');
  return documented === bare || documented === `${bare}/`;
}
