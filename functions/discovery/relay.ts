/**
 * The authorization-response relay (pure). The facade is the only redirect URI registered at the
 * IdP (`<issuer>/callback`): the IdP sends the user back to the facade, which forwards the code to
 * the client's own redirect URI with `iss` = the facade's issuer (RFC 9207 §2). So:
 * - clients that check RFC 9207 `iss` (MCP 2026-07-28, SDK v2) accept the response;
 * - a link straight to the IdP's authorize endpoint cannot deliver a code anywhere but the
 *   facade, which re-validates the final redirect URI (`discovery.allowed_redirect_hosts`,
 *   loopback, configured schemes) before redirecting;
 * - every IdP client has exactly one callback URL (no regex patterns at Asgardeo).
 *
 * The client's redirect URI and state travel in the IdP `state` parameter. It is not secret and
 * needs no signature: whatever it says is validated again at the callback like any redirect URI,
 * and the code it carries is useless without the PKCE verifier of whoever started the flow.
 */
import { OAuthError } from '../shared/errors.ts';

export const CALLBACK_PATH = '/callback';
const MAX_STATE = 4096;

export function callbackUrl(issuer: string): string {
  return `${issuer}${CALLBACK_PATH}`;
}

export interface RelayState {
  /** The client's redirect URI. */
  readonly ru: string;
  /** The client's `state`, if any. */
  readonly st?: string;
}

export function encodeRelayState(s: RelayState): string {
  return Buffer.from(JSON.stringify(s.st === undefined ? { ru: s.ru } : { ru: s.ru, st: s.st })).toString(
    'base64url',
  );
}

function bad(reason: string): never {
  throw new OAuthError(400, 'invalid_request', 'invalid authorization response', reason);
}

export function decodeRelayState(raw: string | null): RelayState {
  if (!raw || raw.length > MAX_STATE || !/^[A-Za-z0-9_-]+$/.test(raw))
    bad('relay state missing or malformed');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    bad('relay state is not JSON');
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o.ru !== 'string') bad('relay state has no redirect URI');
  if (o.st !== undefined && typeof o.st !== 'string') bad('relay state has a bad state');
  return { ru: o.ru, st: o.st as string | undefined };
}

/** RFC 6749 §4.1.2 / §4.1.2.1 response parameters the facade passes on to the client. */
const PASSED = ['code', 'error', 'error_description', 'error_uri'];

/**
 * The client's redirect: its redirect URI (query kept) with the IdP's code or error, the
 * client's own `state`, and `iss` = the facade's issuer (RFC 9207).
 */
export function clientRedirect(state: RelayState, idpResponse: URLSearchParams, issuer: string): string {
  if (!idpResponse.get('code') && !idpResponse.get('error'))
    bad('authorization response has neither code nor error');
  const u = new URL(state.ru);
  for (const k of PASSED) {
    const v = idpResponse.get(k);
    if (v !== null) u.searchParams.set(k, v);
  }
  if (state.st !== undefined) u.searchParams.set('state', state.st);
  u.searchParams.set('iss', issuer);
  return u.toString();
}
