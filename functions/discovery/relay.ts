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
 *
 * The code goes to the client sealed too (`sealCode`): bound to the client id and redirect URI of
 * the flow and to a 10-minute expiry. At /token the facade opens it (`openCode`), so a code it did
 * not relay, one redeemed by another client or with another redirect URI, or one already redeemed
 * on this instance is refused without an IdP call; the IdP gets its own code back.
 */
import { randomBytes } from 'node:crypto';
import { sameBytes } from '../shared/constant-time.ts';
import { badRequest } from '../shared/errors.ts';
import { cookieValue } from '../shared/http-bits.ts';
import { digest, seal, unseal } from '../shared/seal.ts';

export const CALLBACK_PATH = '/callback';
const PURPOSE = 'relay';
const MAX_STATE = 16 * 1024;
/** How long a user may take at the IdP's login page. */
export const RELAY_TTL_SECONDS = 900;

export function callbackUrl(issuer: string): string {
  return `${issuer}${CALLBACK_PATH}`;
}

export interface RelayState {
  /** When the state expires (ms), for the single-use check. */
  readonly expiresAtMs: number;
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
    cid: clientIdHash(s.clientId),
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
    expiresAtMs: o.exp * 1000,
    clearCookie: `${COOKIE}${o.bid}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`,
  };
}

/** RFC 6749 §4.1.2 / §4.1.2.1 parameters passed on (not `error_uri`: a link the IdP chose). */
const PASSED = ['code', 'error', 'error_description'];

/** The short hash of a facade client id that relay states and sealed codes carry. */
export const clientIdHash = (clientId: string): string => digest(clientId).slice(0, 16);

const CODE_PURPOSE = 'code';
/** How long a relayed code waits for the client's token request (what IdPs allow at most). */
export const CODE_TTL_SECONDS = 600;
const MAX_CODE = 16 * 1024;

export function sealCode(key: Uint8Array, code: string, state: RelayState, now = Date.now()): string {
  return seal(key, CODE_PURPOSE, {
    c: code,
    cid: state.cid,
    ru: state.ru,
    exp: Math.floor(now / 1000) + CODE_TTL_SECONDS,
  });
}

export interface OpenedCode {
  /** The IdP's own code. */
  readonly code: string;
  /** A name for the sealed value (single use) and when it expires (ms). */
  readonly id: string;
  readonly expiresAtMs: number;
}

function badGrant(reason: string): never {
  throw badRequest('invalid_grant', 'invalid, expired or already used authorization code', reason);
}

/** The IdP's code inside `sealed`, if the facade relayed it to this client for this redirect URI. */
export function openCode(
  key: Uint8Array,
  sealed: string,
  clientId: string,
  redirectUri: string,
  now = Date.now(),
): OpenedCode {
  const o = unseal(key, CODE_PURPOSE, sealed, MAX_CODE);
  if (!o) badGrant('code not relayed by this facade');
  if (typeof o.exp !== 'number' || o.exp * 1000 < now) badGrant('relayed code expired');
  if (typeof o.c !== 'string' || typeof o.cid !== 'string' || typeof o.ru !== 'string') {
    badGrant('relayed code malformed');
  }
  if (!sameBytes(o.cid, clientIdHash(clientId))) badGrant('code relayed to another client');
  if (o.ru !== redirectUri) badGrant('redirect_uri differs from the authorization request');
  return { code: o.c, id: digest(sealed), expiresAtMs: o.exp * 1000 };
}

/**
 * The client's redirect: its URI (query kept), the IdP's code (sealed) or error, its state, our
 * `iss`.
 */
export function clientRedirect(
  key: Uint8Array,
  state: RelayState,
  idpResponse: URLSearchParams,
  issuer: string,
  now = Date.now(),
): string {
  if (!idpResponse.get('code') && !idpResponse.get('error'))
    bad('authorization response has neither code nor error');
  const u = new URL(state.ru);
  for (const k of PASSED) {
    const v = idpResponse.get(k);
    if (v !== null) u.searchParams.set(k, k === 'code' ? sealCode(key, v, state, now) : v);
  }
  if (state.st !== undefined) u.searchParams.set('state', state.st);
  u.searchParams.set('iss', issuer);
  return u.toString();
}
