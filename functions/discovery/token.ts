/**
 * Token endpoint facade policy (pure): validate the client's token request (RFC 6749 §4.1.3,
 * §6; OAuth 2.1 §4.1.3; RFC 7636 §4.5) and turn the IdP's answer into ours (the body sent to the
 * IdP, with the original's `/token.addBodyParams`, is the provider's `tokenParams`):
 * - 200 JSON with `access_token` and `token_type` → passed through, `Cache-Control: no-store`;
 * - 4xx JSON OAuth error (RFC 6749 §5.2) → passed through (code, description, uri only);
 * - anything else (5xx, HTML, garbage, network failure) → 503 `temporarily_unavailable`,
 *   never a bare 500, with the IdP's detail in the log only.
 */

import { readBasic } from '../shared/encoding.ts';
import { badRequest, invalidClient, jsonResponse, type OAuthErrorCode, tooLarge } from '../shared/errors.ts';
import { mediaType } from '../shared/http-bits.ts';
import { type IdpReply, unavailable } from './idp-http.ts';

export const TOKEN_LIMITS = { bodyBytes: 16 * 1024, value: 4096, params: 30 } as const;
const GRANTS = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7636 §4.1: code_verifier = 43*128 unreserved. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function bad(code: OAuthErrorCode, description: string): never {
  throw badRequest(code, description, `token request refused: ${description}`);
}

export interface TokenRequestContext {
  /** The client's `Authorization` header, if any. */
  readonly authorization: string | null;
  /** `discovery.client_credentials`. */
  readonly clientCredentials: boolean;
}

/**
 * RFC 6749 §4.4 / MCP client-credentials extension: only a confidential client, authenticated by
 * one method (RFC 6749 §2.3: HTTP Basic, `client_secret` in the form, or an RFC 7523 assertion).
 */
function checkClientCredentials(params: URLSearchParams, authorization: string | null): void {
  const methods = [
    authorization !== null,
    params.has('client_secret'),
    params.has('client_assertion') || params.has('client_assertion_type'),
  ].filter(Boolean).length;
  if (methods === 0) {
    throw invalidClient(
      'client_credentials needs an authenticated (confidential) client',
      'no client authentication',
    );
  }
  if (methods > 1) bad('invalid_request', 'use one client authentication method');
  if (authorization !== null && !readBasic(authorization)) {
    throw invalidClient(
      'client authentication must be HTTP Basic',
      'Authorization header is not Basic credentials',
    );
  }
  if (params.has('client_secret') && !params.get('client_id'))
    bad('invalid_request', 'client_id is required');
  if (params.has('client_assertion') && params.get('client_assertion_type') !== JWT_BEARER) {
    bad('invalid_request', 'client_assertion_type must be the RFC 7523 JWT bearer type');
  }
  for (const k of ['code', 'redirect_uri', 'code_verifier', 'refresh_token']) {
    if (params.has(k)) bad('invalid_request', `${k} is not a client_credentials parameter`);
  }
}

export function parseTokenRequest(
  contentType: string | null,
  body: Uint8Array,
  ctx: TokenRequestContext = { authorization: null, clientCredentials: false },
): URLSearchParams {
  if (body.byteLength > TOKEN_LIMITS.bodyBytes) {
    throw tooLarge('invalid_request', TOKEN_LIMITS.bodyBytes);
  }
  if (mediaType(contentType) !== 'application/x-www-form-urlencoded') {
    bad('invalid_request', 'content type must be application/x-www-form-urlencoded');
  }
  const params = new URLSearchParams(Buffer.from(body).toString('utf8'));
  const seen = new Set<string>();
  let n = 0;
  for (const [k, v] of params) {
    if (++n > TOKEN_LIMITS.params) bad('invalid_request', 'too many parameters');
    // RFC 6749 §3.2: parameters MUST NOT be included more than once (RFC 8707 allows `resource`).
    if (seen.has(k) && k !== 'resource')
      throw badRequest(
        'invalid_request',
        'a parameter is repeated',
        `token request refused: parameter ${k.slice(0, 100)} is repeated`,
      );
    if (v.length > TOKEN_LIMITS.value) bad('invalid_request', `${k} is too long`);
    seen.add(k);
  }
  const grant = params.get('grant_type');
  if (!grant) bad('invalid_request', 'grant_type is required');
  if (!GRANTS.has(grant) || (grant === 'client_credentials' && !ctx.clientCredentials)) {
    bad(
      'unsupported_grant_type',
      `grant_type must be authorization_code${ctx.clientCredentials ? ', refresh_token or client_credentials' : ' or refresh_token'}`,
    );
  }
  if (grant === 'client_credentials') checkClientCredentials(params, ctx.authorization);
  else if (grant === 'authorization_code') {
    if (!params.get('code')) bad('invalid_request', 'code is required');
    if (!params.get('redirect_uri')) bad('invalid_request', 'redirect_uri is required');
    const verifier = params.get('code_verifier');
    if (!verifier) bad('invalid_request', 'code_verifier is required (PKCE)');
    if (!CODE_VERIFIER.test(verifier)) bad('invalid_request', 'code_verifier is malformed');
  } else if (!params.get('refresh_token')) {
    bad('invalid_request', 'refresh_token is required');
  }
  return params;
}

const OAUTH_ERROR = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

/** Map the IdP token endpoint's answer to the facade's response (see module comment). */
export function tokenResponseFromIdp(reply: Pick<IdpReply, 'status' | 'contentType' | 'json'>): Response {
  const { status, contentType, json: obj } = reply;
  if (status === 200 && obj && typeof obj.access_token === 'string' && typeof obj.token_type === 'string') {
    return jsonResponse(200, obj);
  }
  if (status >= 400 && status < 500 && obj && typeof obj.error === 'string' && OAUTH_ERROR.test(obj.error)) {
    const out: Record<string, unknown> = { error: obj.error };
    if (typeof obj.error_description === 'string')
      out.error_description = obj.error_description.slice(0, 300);
    if (typeof obj.error_uri === 'string' && /^https:\/\//.test(obj.error_uri)) out.error_uri = obj.error_uri;
    // RFC 6749 §5.2: 401 for invalid_client authenticated with a header; keep the IdP's status.
    return jsonResponse(status, out, status === 401 ? { 'www-authenticate': 'Basic realm="token"' } : {});
  }
  throw unavailable(
    `IdP token endpoint answered HTTP ${status} (${contentType ?? 'no content type'}) without a usable body`,
  );
}
