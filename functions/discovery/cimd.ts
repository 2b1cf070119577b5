/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25 and
 * 2026-07-28 "Client ID Metadata Documents"), the pure half: which `client_id` values are document
 * URLs, what a fetched document must hold to be used, and how long it may be cached. The fetch
 * itself (SSRF guard, no redirects, size and time limits, the cache) is cimd-fetch.ts.
 *
 * Policy (docs/configuration.md, "Client ID Metadata Documents"):
 * - the `client_id` is an `https` URL with a path, no fragment, no user information, no dot
 *   segments, written in its normalised form (so the string compared with the document's
 *   `client_id` is the one that was fetched);
 * - the document is a JSON object whose `client_id` equals that URL exactly (draft §4.1), with
 *   `client_name` and `redirect_uris` (MCP: required), validated like an RFC 7591 registration
 *   (dcr.ts) for structure;
 * - public clients only: `token_endpoint_auth_method` absent or `none`; `client_secret` and
 *   `client_secret_expires_at` refused (draft §4.1); `private_key_jwt` is not supported;
 * - the redirect URI of a request must be one of `redirect_uris` (client-id.ts
 *   `redirectRegistered`: exact, any port on loopback as RFC 8252 §7.3 and RFC 9700 §2.1 allow).
 */
import { badRequest, type OAuthError } from '../shared/errors.ts';
import { validateRegistration } from './dcr.ts';

export const CIMD_LIMITS = {
  /** The draft's recommended maximum response size (§6.6). */
  documentBytes: 5 * 1024,
  clientIdLength: 2000,
  /** Cache lifetime bounds (seconds) around what the document's HTTP headers say (draft §4.4). */
  minCacheSeconds: 60,
  maxCacheSeconds: 3600,
  /** When the response says nothing about caching. */
  defaultCacheSeconds: 300,
} as const;

/** A client described by a verified metadata document. */
export interface DocumentClient {
  /** The document URL = the client id. */
  readonly clientId: string;
  /** The host the document was fetched from (over https), shown on the consent page. */
  readonly host: string;
  /** `client_name` from the document (the client's own words). */
  readonly name: string;
  readonly redirectUris: readonly string[];
}

/** Whether a `client_id` names a metadata document (facade ids start with `mcp-`, never `https://`). */
export function isDocumentClientId(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/** Refusal of a document client: 400 `invalid_client`, never a redirect (nothing is verified). */
export function documentRefused(description: string, reason: string): OAuthError {
  return badRequest('invalid_client', description, `client metadata document refused: ${reason}`);
}

/** Why `clientId` cannot be a document URL (draft §3), or undefined. */
export function clientIdUrlProblem(clientId: string): string | undefined {
  if (clientId.length > CIMD_LIMITS.clientIdLength) return 'client_id URL is too long';
  let u: URL;
  try {
    u = new URL(clientId);
  } catch {
    return 'client_id is not a URL';
  }
  if (u.protocol !== 'https:') return 'client_id URL must use https';
  if (u.username || u.password) return 'client_id URL must not contain user information';
  if (clientId.includes('#')) return 'client_id URL must not contain a fragment';
  if (u.pathname === '/' || u.pathname === '') return 'client_id URL must contain a path';
  // WHATWG parsing removes dot segments (also %2e) and normalises host and port: the URL must
  // already be written that way, so the document's client_id is compared with what was fetched.
  if (u.href !== clientId) return 'client_id URL must be in normalised form (no dot segments)';
  return undefined;
}

/** The client a fetched document describes, or a 400 `invalid_client`. */
export function validateDocument(
  clientId: string,
  doc: unknown,
  allowedRedirectSchemes: readonly string[] = [],
): DocumentClient {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw documentRefused('the client metadata document is not a JSON object', 'not an object');
  }
  const o = doc as Record<string, unknown>;
  if (o.client_id !== clientId) {
    throw documentRefused(
      'client_id in the client metadata document does not match its URL',
      `document client_id ${JSON.stringify(String(o.client_id)).slice(0, 200)}`,
    );
  }
  for (const k of ['client_secret', 'client_secret_expires_at']) {
    if (k in o) throw documentRefused(`the client metadata document must not contain ${k}`, k);
  }
  const method = o.token_endpoint_auth_method ?? 'none';
  if (method !== 'none') {
    throw documentRefused(
      'token_endpoint_auth_method must be none (public clients only)',
      `token_endpoint_auth_method ${String(method).slice(0, 50)}`,
    );
  }
  if (typeof o.client_name !== 'string' || !o.client_name.trim()) {
    throw documentRefused('the client metadata document must contain client_name', 'no client_name');
  }
  let reg: ReturnType<typeof validateRegistration>;
  try {
    // Structure only: the redirect URI a request uses is held to the deployment's policy at /authorize.
    reg = validateRegistration({ ...o, token_endpoint_auth_method: 'none' }, allowedRedirectSchemes, ['*']);
  } catch (e) {
    const d = (e as OAuthError).description ?? 'invalid';
    throw documentRefused(`invalid client metadata document: ${d}`, d);
  }
  return {
    clientId,
    host: new URL(clientId).host,
    name: reg.client_name ?? o.client_name.trim(),
    redirectUris: reg.redirect_uris,
  };
}

/**
 * Seconds a document may be cached (0: not at all), from its response headers (RFC 9111 §5.2:
 * `no-store`/`no-cache`/`max-age=0` → not cached; `max-age`, else `Expires` − `Date`), bounded by
 * the limits above.
 */
export function documentCacheSeconds(
  cacheControl: string | null,
  expires: string | null,
  date: string | null,
  now = Date.now(),
): number {
  const cc = (cacheControl ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|no-cache)\b/.test(cc)) return 0;
  const m = /(?:^|[\s,])max-age\s*=\s*"?(\d+)"?/.exec(cc);
  let seconds: number | undefined = m ? Number(m[1]) : undefined;
  if (seconds === undefined && expires) {
    const at = Date.parse(expires);
    const from = date ? Date.parse(date) : now;
    seconds = Number.isNaN(at) ? 0 : Math.floor((at - (Number.isNaN(from) ? now : from)) / 1000);
  }
  if (seconds === undefined) return CIMD_LIMITS.defaultCacheSeconds;
  if (seconds <= 0) return 0;
  return Math.min(CIMD_LIMITS.maxCacheSeconds, Math.max(CIMD_LIMITS.minCacheSeconds, seconds));
}
