/**
 * The authorization-response relay (pure), on when `discovery.signing_key` is set. The facade is
 * the only redirect URI registered at the IdP (`<issuer>/callback`): the IdP sends the user back
 * to the facade, which forwards the code to the client's redirect URI with `iss` = the facade's
 * issuer (RFC 9207 §2), so clients that check `iss` (MCP 2026-07-28, SDK v2) accept it, and every
 * IdP client has one callback URL.
 *
 * The IdP `state` is a sealed value (seal.ts) the facade issues only after the user's consent:
 * {client's redirect URI, client's state, facade client id, expiry}. A link straight to the IdP
 * (with a trusted client's IdP id and a made-up state) therefore gets nowhere: the callback
 * refuses any state it did not issue, and sends codes only to URIs the client registered.
 */
import { OAuthError } from '../shared/errors.ts';
import { seal, unseal } from './seal.ts';

export const CALLBACK_PATH = '/callback';
const PURPOSE = 'relay';
const MAX_STATE = 16 * 1024;
/** How long a user may take at the IdP's login page. */
export const RELAY_TTL_SECONDS = 900;

export function callbackUrl(issuer: string): string {
  return `${issuer}${CALLBACK_PATH}`;
}

export interface RelayState {
  /** The client's redirect URI (checked against its registration before this was issued). */
  readonly ru: string;
  /** The client's `state`, if any. */
  readonly st?: string;
  /** The facade client id the flow was started for. */
  readonly cid: string;
}

export function issueRelayState(key: Uint8Array, s: RelayState, now = Date.now()): string {
  return seal(key, PURPOSE, { ...s, exp: Math.floor(now / 1000) + RELAY_TTL_SECONDS });
}

function bad(reason: string): never {
  throw new OAuthError(400, 'invalid_request', 'invalid or expired authorization response', reason);
}

export function readRelayState(key: Uint8Array, raw: string | null, now = Date.now()): RelayState {
  if (!raw) bad('no relay state');
  const o = unseal(key, PURPOSE, raw, MAX_STATE);
  if (!o) bad('relay state not issued by this facade');
  if (typeof o.exp !== 'number' || o.exp * 1000 < now) bad('relay state expired');
  if (
    typeof o.ru !== 'string' ||
    typeof o.cid !== 'string' ||
    (o.st !== undefined && typeof o.st !== 'string')
  ) {
    bad('relay state malformed');
  }
  return { ru: o.ru, st: o.st as string | undefined, cid: o.cid };
}

/** RFC 6749 §4.1.2 / §4.1.2.1 parameters passed on (not `error_uri`: a link the IdP chose). */
const PASSED = ['code', 'error', 'error_description'];

/** The client's redirect: its URI (query kept), the IdP's code or error, its state, our `iss`. */
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
