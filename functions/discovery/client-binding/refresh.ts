/**
 * Refresh tokens sealed to the facade client they were issued to. Where many facade clients are
 * ONE client at the IdP (the one-upstream-client mode, clients identified by metadata documents),
 * the IdP cannot tell whose refresh token it is given; the facade hands the client the IdP's
 * refresh token sealed to its client id (`mcpr-…`) and opens it only for that client, so one
 * client can never redeem another's.
 */

import { badRequest } from '../../shared/errors.ts';
import { digest, seal, unseal } from '../../shared/seal.ts';
import type { IdpReply } from '../idp-http.ts';

const REFRESH_PREFIX = 'mcpr-';
const REFRESH_PURPOSE = 'refresh';
/** The longest sealed refresh token taken back (the token endpoint's parameter limit). */
const MAX_REFRESH_LENGTH = 4096;

/** The IdP's reply with its refresh token, if any, sealed to `facadeId`. */
export function sealRefreshTokens(r: IdpReply, key: Uint8Array, facadeId: string): IdpReply {
  const rt = r.json?.refresh_token;
  if (r.status !== 200 || typeof rt !== 'string') return r;
  return { ...r, json: { ...r.json, refresh_token: sealRefreshToken(key, rt, facadeId) } };
}

function sealRefreshToken(key: Uint8Array, token: string, facadeId: string): string {
  return REFRESH_PREFIX + seal(key, REFRESH_PURPOSE, { r: token, c: digest(facadeId) });
}

/** The IdP's refresh token inside a sealed one issued to this client; `invalid_grant` otherwise. */
export function openRefreshToken(key: Uint8Array, sealed: string, facadeId: string): string {
  const o = sealed.startsWith(REFRESH_PREFIX)
    ? unseal(key, REFRESH_PURPOSE, sealed.slice(REFRESH_PREFIX.length), MAX_REFRESH_LENGTH)
    : undefined;
  if (!o || typeof o.r !== 'string' || o.c !== digest(facadeId)) {
    throw badRequest('invalid_grant', 'invalid refresh token', 'refresh token not issued to this client');
  }
  return o.r;
}
