/**
 * Authorization request validation and the redirect to the IdP (pure).
 *
 * This validation knows nothing of the client's registration, so EVERY refusal here is a 400
 * response to the user agent, never a redirect (no open redirector): OAuth 2.1 §4.1.2.1 (and
 * RFC 6749 §4.1.2.1) forbid redirecting to an unverified redirect URI. The exact match against
 * the registered URIs is made elsewhere: with the relay by the facade itself (the URIs ride sealed
 * in the client id, client-id.ts); without it by the IdP, the only party that knows them, which
 * must also refuse without redirecting.
 *
 * PKCE (RFC 7636, OAuth 2.1 §4.1.1) is mandatory with `S256`: a missing `code_challenge` or a
 * missing/`plain` `code_challenge_method` is refused (a missing method means `plain`, §4.3).
 */

import { SCOPE_SYNTAX } from '../shared/encoding.ts';
import { badRequest } from '../shared/errors.ts';
import { MAX_CLIENT_ID_LENGTH } from './client-id.ts';
import { redirectUriProblem } from './redirect-uri.ts';

export const AUTHORIZE_LIMITS = {
  /** The facade's sealed ids carry the registration (client-id.ts): the same bound as at /register. */
  clientId: MAX_CLIENT_ID_LENGTH,
  state: 1024,
  scope: 1000,
  resource: 2000,
  params: 50,
} as const;

/** RFC 7636 §4.2: code_challenge = 43*128 unreserved (base64url of a SHA-256 is exactly 43). */
const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Parameters forwarded to the IdP. Anything else is dropped (RFC 6749 §3.1: unrecognized
 * parameters are ignored): in particular `request` / `request_uri` (RFC 9101), which could carry
 * a redirect URI this facade never validated or make the IdP fetch arbitrary URLs.
 */
const FORWARDED = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'nonce',
  'prompt',
  'login_hint',
  'ui_locales',
  'max_age',
]);

export interface AuthorizeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope?: string;
  readonly resources: readonly string[];
  /** The validated, allow-listed parameters to send on to the IdP. */
  readonly params: URLSearchParams;
}

function bad(
  code: 'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'invalid_target',
  description: string,
): never {
  throw badRequest(code, description, `authorize refused: ${description}`);
}

/** One straight list of checks (≈60 lines), in the order a refusal should name the first problem. */
export function validateAuthorizeRequest(
  params: URLSearchParams,
  allowedRedirectSchemes: readonly string[],
  allowedRedirectHosts: readonly string[] = ['*'],
): AuthorizeRequest {
  // RFC 6749 §3.1: request and response parameters MUST NOT be included more than once.
  const seen = new Set<string>();
  let count = 0;
  for (const [k] of params) {
    if (++count > AUTHORIZE_LIMITS.params) bad('invalid_request', 'too many parameters');
    if (seen.has(k)) {
      // RFC 8707 §2 allows several `resource` parameters.
      // The name stays in the log: the page shows fixed text, never attacker-chosen words.
      if (k !== 'resource')
        throw badRequest(
          'invalid_request',
          'a parameter is repeated',
          `authorize refused: parameter ${k.slice(0, 100)} is repeated`,
        );
    }
    seen.add(k);
  }
  const one = (k: string, max: number): string | undefined => {
    const v = params.get(k);
    if (v === null || v === '') return undefined;
    if (v.length > max) bad('invalid_request', `${k} is too long`);
    if (!PRINTABLE.test(v)) bad('invalid_request', `${k} contains control characters`);
    return v;
  };

  const clientId = one('client_id', AUTHORIZE_LIMITS.clientId);
  if (!clientId) bad('invalid_request', 'client_id is required');
  // Required even when the client registered exactly one (OAuth 2.1 §4.1.1 would let it be
  // omitted then): without the relay the facade cannot know the registered URIs.
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) bad('invalid_request', 'redirect_uri is required');
  const problem = redirectUriProblem(redirectUri, allowedRedirectSchemes, allowedRedirectHosts);
  if (problem) bad('invalid_request', `invalid redirect_uri: ${problem}`);

  const responseType = params.get('response_type');
  if (!responseType) bad('invalid_request', 'response_type is required');
  if (responseType !== 'code') bad('unsupported_response_type', 'only response_type=code is supported');

  const challenge = params.get('code_challenge');
  if (!challenge) bad('invalid_request', 'code_challenge is required (PKCE with S256)');
  if (!CODE_CHALLENGE.test(challenge)) bad('invalid_request', 'code_challenge is malformed');
  const method = params.get('code_challenge_method');
  if (method !== 'S256') bad('invalid_request', 'code_challenge_method must be S256');
  // Only the query response mode is advertised (response_modes_supported).
  const mode = params.get('response_mode');
  if (mode !== null && mode !== 'query') bad('invalid_request', 'only response_mode=query is supported');

  one('state', AUTHORIZE_LIMITS.state);
  // Forwarded OIDC extras get the same single-value, length and control-character checks.
  for (const k of ['nonce', 'prompt', 'login_hint', 'ui_locales']) one(k, 512);
  const maxAge = one('max_age', 10);
  if (maxAge !== undefined && !/^\d+$/.test(maxAge))
    bad('invalid_request', 'max_age must be a number of seconds');
  const scope = one('scope', AUTHORIZE_LIMITS.scope);
  if (scope !== undefined && !SCOPE_SYNTAX.test(scope)) bad('invalid_scope', 'scope is malformed');
  // RFC 8707 §2: absolute URI, no fragment.
  for (const r of params.getAll('resource')) {
    if (r.length > AUTHORIZE_LIMITS.resource || !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/.test(r)) {
      bad('invalid_target', 'resource must be an absolute URI without a fragment');
    }
  }
  const forwarded = new URLSearchParams();
  for (const [k, v] of params) if (FORWARDED.has(k)) forwarded.append(k, v);
  return { clientId, redirectUri, scope, resources: params.getAll('resource'), params: forwarded };
}

/**
 * The IdP authorization URL: the parameters (the client's, after the provider's rules, e.g. the
 * original's `/authorize.addQueryParams`), then the query the configured IdP endpoint carries,
 * whose values replace the parameters'.
 */
export function idpAuthorizeUrl(endpoint: string, params: URLSearchParams): string {
  const u = new URL(endpoint);
  const out = new URLSearchParams(params);
  for (const k of new Set(u.searchParams.keys())) {
    out.delete(k);
    for (const v of u.searchParams.getAll(k)) out.append(k, v);
  }
  u.search = out.toString();
  return u.toString();
}
