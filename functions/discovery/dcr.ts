/**
 * Dynamic Client Registration request validation (pure), RFC 7591 §2 and §3.2.2.
 *
 * Strict and closed: only the metadata listed in `ClientRegistration` is accepted and forwarded
 * to the identity provider; other members are ignored as RFC 7591 §2 requires ("the
 * authorization server MUST ignore any client metadata sent by the client that it does not
 * understand"). Every refusal is `invalid_redirect_uri` or `invalid_client_metadata` (§3.2.2)
 * with HTTP 400, and happens before anything is created at the IdP.
 */
import { SCOPE_SYNTAX } from '../shared/encoding.ts';
import type { OAuthErrorCode } from '../shared/errors.ts';
import { badRequest, tooLarge } from '../shared/errors.ts';
import { mediaType } from '../shared/http-bits.ts';
import type { ClientRegistration } from './providers/types.ts';
import { redirectUriProblem } from './redirect-uri.ts';

/** Limits on the request (bytes of the body, entries, characters per field). */
export const DCR_LIMITS = {
  bodyBytes: 16 * 1024,
  redirectUris: 10,
  contacts: 5,
  /** client_name, software_id, software_version. */
  shortText: 200,
  /** client_uri, logo_uri, tos_uri, policy_uri. */
  uri: 2000,
  scope: 1000,
  contact: 320,
} as const;

const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;
const APPLICATION_TYPES = ['web', 'native'] as const;

function refuse(
  code: Extract<OAuthErrorCode, 'invalid_redirect_uri' | 'invalid_client_metadata'>,
  description: string,
): never {
  throw badRequest(code, description, `registration refused: ${description}`);
}

type Json = Record<string, unknown>;

/** Parse the raw body: JSON object only, bounded size. */
export function parseRegistrationBody(contentType: string | null, body: Uint8Array): Json {
  if (body.byteLength > DCR_LIMITS.bodyBytes) {
    throw tooLarge('invalid_client_metadata', DCR_LIMITS.bodyBytes);
  }
  if (mediaType(contentType) !== 'application/json')
    refuse('invalid_client_metadata', 'content type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    refuse('invalid_client_metadata', 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    refuse('invalid_client_metadata', 'request body must be a JSON object');
  }
  return parsed as Json;
}

function optText(o: Json, key: string, max: number): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') refuse('invalid_client_metadata', `${key} must be a string`);
  if (v.length > max) refuse('invalid_client_metadata', `${key} longer than ${max} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(v))
    refuse('invalid_client_metadata', `${key} contains control characters`);
  // C1 controls, bidirectional overrides/isolates and invisible characters: a name shown on the
  // consent page must read as what it is (no reordered or hidden text).
  if (/[\u0080-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/.test(v))
    refuse('invalid_client_metadata', `${key} contains invisible or direction-changing characters`);
  return v;
}

/** Informational URIs (client_uri, logo_uri, tos_uri, policy_uri): https, or loopback http. */
function optUri(o: Json, key: string): string | undefined {
  const v = optText(o, key, DCR_LIMITS.uri);
  if (v === undefined) return undefined;
  if (redirectUriProblem(v, []) !== undefined)
    refuse('invalid_client_metadata', `${key} must be an https URL`);
  return v;
}

function optList<T extends string>(o: Json, key: string, allowed: readonly T[]): T[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > allowed.length) {
    refuse('invalid_client_metadata', `${key} must be a non-empty array of ${allowed.join(', ')}`);
  }
  for (const x of v) {
    if (!(allowed as readonly unknown[]).includes(x)) {
      refuse('invalid_client_metadata', `${key} may only contain ${allowed.join(', ')}`);
    }
  }
  return [...new Set(v as T[])];
}

/**
 * Validate a registration request (RFC 7591 §2) into the metadata the provider will register.
 * Throws `OAuthError` 400 `invalid_redirect_uri` / `invalid_client_metadata`. One straight list of
 * checks, member by member (hence its length), each refusal made before anything is created.
 */
export function validateRegistration(
  o: Json,
  allowedRedirectSchemes: readonly string[],
  allowedRedirectHosts: readonly string[] = ['*'],
): ClientRegistration {
  // redirect_uris: required for the authorization_code grant (RFC 7591 §2; OAuth 2.1 §2.3.1).
  const uris = o.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0) refuse('invalid_redirect_uri', 'redirect_uris is required');
  if (uris.length > DCR_LIMITS.redirectUris) {
    refuse('invalid_redirect_uri', `at most ${DCR_LIMITS.redirectUris} redirect_uris are allowed`);
  }
  for (const u of uris) {
    const problem = redirectUriProblem(u, allowedRedirectSchemes, allowedRedirectHosts);
    if (problem) refuse('invalid_redirect_uri', problem);
  }
  // Registered exactly as sent: `redirectUriProblem` has refused any URI whose scheme or host is
  // not already in its normalised form, so the IdP and the browser read the host that was checked.
  const redirect_uris = [...new Set(uris as string[])];

  // grant_types ⊆ {authorization_code, refresh_token}; response_types = [code] (§2.1 consistency).
  const grant_types = optList(o, 'grant_types', GRANT_TYPES) ?? ['authorization_code'];
  if (!grant_types.includes('authorization_code')) {
    refuse('invalid_client_metadata', 'grant_types must include authorization_code');
  }
  // At most one entry, and only `code`: nothing else to check.
  optList(o, 'response_types', ['code'] as const);

  // token_endpoint_auth_method: RFC 7591 §2 default is client_secret_basic.
  const method = o.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!(AUTH_METHODS as readonly unknown[]).includes(method)) {
    refuse('invalid_client_metadata', `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  }

  // application_type (OpenID Connect Registration §2; sent by 2026-07-28 clients).
  const appType = o.application_type;
  if (
    appType !== undefined &&
    appType !== null &&
    !(APPLICATION_TYPES as readonly unknown[]).includes(appType)
  ) {
    refuse('invalid_client_metadata', 'application_type must be web or native');
  }

  const scope = optText(o, 'scope', DCR_LIMITS.scope);
  if (scope !== undefined && !SCOPE_SYNTAX.test(scope))
    refuse('invalid_client_metadata', 'scope is not a valid scope string');

  let contacts: string[] | undefined;
  if (o.contacts !== undefined && o.contacts !== null) {
    if (!Array.isArray(o.contacts) || o.contacts.length > DCR_LIMITS.contacts) {
      refuse(
        'invalid_client_metadata',
        `contacts must be an array of at most ${DCR_LIMITS.contacts} strings`,
      );
    }
    contacts = o.contacts.map((c, i) => {
      const name = `contacts[${i}]`;
      return (
        optText({ [name]: c }, name, DCR_LIMITS.contact) ||
        refuse('invalid_client_metadata', `${name} is empty`)
      );
    });
  }

  const reg: ClientRegistration = {
    redirect_uris,
    grant_types,
    response_types: ['code'],
    token_endpoint_auth_method: method as ClientRegistration['token_endpoint_auth_method'],
    client_name: optText(o, 'client_name', DCR_LIMITS.shortText),
    client_uri: optUri(o, 'client_uri'),
    logo_uri: optUri(o, 'logo_uri'),
    tos_uri: optUri(o, 'tos_uri'),
    policy_uri: optUri(o, 'policy_uri'),
    scope,
    contacts,
    software_id: optText(o, 'software_id', DCR_LIMITS.shortText),
    software_version: optText(o, 'software_version', DCR_LIMITS.shortText),
    application_type: (appType ?? undefined) as ClientRegistration['application_type'],
  };
  // Drop absent members so the IdP sees only what the client sent (plus our defaults).
  for (const k of Object.keys(reg) as (keyof ClientRegistration)[]) {
    if (reg[k] === undefined) delete (reg as unknown as Record<string, unknown>)[k];
  }
  return reg;
}

/**
 * The 201 body (RFC 7591 §3.2.1): the client information from the IdP plus the metadata as
 * registered. IdP-internal management values (`registration_access_token`,
 * `registration_client_uri`, RFC 7592) are not passed on: the facade does not offer client
 * management.
 */
export function registrationResponse(
  requested: ClientRegistration,
  created: {
    client_id: string;
    client_secret?: string;
    client_id_issued_at?: number;
    client_secret_expires_at?: number;
    metadata: Record<string, unknown>;
  },
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...requested };
  for (const k of Object.keys(requested) as (keyof ClientRegistration)[]) {
    // Values the IdP changed (e.g. narrowed scope) win: the response must describe the client as it is.
    if (created.metadata[k] !== undefined) body[k] = created.metadata[k];
  }
  body.client_id = created.client_id;
  if (created.client_secret !== undefined) {
    body.client_secret = created.client_secret;
    body.client_secret_expires_at = created.client_secret_expires_at ?? 0;
  }
  if (created.client_id_issued_at !== undefined) body.client_id_issued_at = created.client_id_issued_at;
  return body;
}
