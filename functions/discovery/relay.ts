/**
 * The authorization-response relay (pure), on when `discovery.signing_key` is set. The facade is
 * the only redirect URI registered at the IdP (`<issuer>/callback`): the IdP sends the user back
 * to the facade, which forwards the code to the client's redirect URI with `iss` = the facade's
 * issuer (RFC 9207 §2), so clients that check `iss` (MCP 2026-07-28, SDK v2) accept it, and every
 * IdP client has one callback URL.
 *
 * The IdP `state` is a sealed value (seal.ts) the facade issues only after the user's consent:
 * {client's redirect URI, client's state, client id hash, expiry, browser binding}. It is bound to
 * the browser that consented: a random nonce goes into a `__Host-` cookie (SameSite=Lax, so it
 * comes back on the IdP's top-level redirect) and its hash into the state. A state the facade did
 * not issue, or one carried to another browser (a link straight to the IdP with a state the
 * attacker obtained for themselves), is refused at the callback: codes reach only the redirect
 * URI of a flow the same browser consented to.
 */
import { randomBytes } from 'node:crypto';
import { sameBytes } from '../shared/constant-time.ts';
import { badRequest } from '../shared/errors.ts';
import { cookieValue } from '../shared/http-bits.ts';
import { digest, seal, unseal } from './seal.ts';

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
  /** Short hash of the facade client id the flow was started for (logs). */
  readonly cid: string;
}

const COOKIE = '__Host-mcp-relay-';

export interface IssuedRelay {
  readonly state: string;
  /** Set-Cookie binding the state to this browser. */
  readonly cookie: string;
}

export function issueRelayState(
  key: Uint8Array,
  s: { ru: string; st?: string; clientId: string },
  now = Date.now(),
): IssuedRelay {
  const bid = randomBytes(6).toString('base64url');
  const nonce = randomBytes(32).toString('base64url');
  const state = seal(key, PURPOSE, {
    ru: s.ru,
    st: s.st,
    cid: digest(s.clientId).slice(0, 16),
    bid,
    bh: digest(nonce),
    exp: Math.floor(now / 1000) + RELAY_TTL_SECONDS,
  });
  return {
    state,
    cookie: `${COOKIE}${bid}=${nonce}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${RELAY_TTL_SECONDS}`,
  };
}

function bad(reason: string): never {
  throw badRequest('invalid_request', 'invalid or expired authorization response', reason);
}

/** The state, if this facade issued it to this browser and it has not expired; plus the cookie to clear. */
export function readRelayState(
  key: Uint8Array,
  raw: string | null,
  cookieHeader: string | null,
  now = Date.now(),
): RelayState & { readonly clearCookie: string } {
  if (!raw) bad('no relay state');
  const o = unseal(key, PURPOSE, raw, MAX_STATE);
  if (!o) bad('relay state not issued by this facade');
  if (typeof o.exp !== 'number' || o.exp * 1000 < now) bad('relay state expired');
  if (
    typeof o.ru !== 'string' ||
    typeof o.cid !== 'string' ||
    typeof o.bid !== 'string' ||
    !/^[A-Za-z0-9_-]{8}$/.test(o.bid) ||
    typeof o.bh !== 'string' ||
    (o.st !== undefined && typeof o.st !== 'string')
  ) {
    bad('relay state malformed');
  }
  const nonce = cookieValue(cookieHeader, `${COOKIE}${o.bid}`);
  if (!sameBytes(nonce ? digest(nonce) : '', o.bh)) bad('relay state presented by another browser');
  return {
    ru: o.ru,
    st: o.st as string | undefined,
    cid: o.cid,
    clearCookie: `${COOKIE}${o.bid}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`,
  };
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
