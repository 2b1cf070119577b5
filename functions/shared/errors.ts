/**
 * The one error model of both functions: an `OAuthError` carries the HTTP status, the OAuth
 * error code and (for 401/403) the Bearer challenge; `errorResponse` is the only place that
 * turns it into a response. The internal reason is for logs only and never reaches the wire.
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'bad_gateway'
  | 'gateway_timeout';

export interface Challenge {
  /** `resource_metadata` parameter (RFC 9728 §5.1). */
  readonly resourceMetadata?: string;
  /** `scope` parameter (RFC 6750 §3). */
  readonly scope?: string;
  /** Whether to include `error=` (only when a token was presented, RFC 6750 §3.1). */
  readonly includeError: boolean;
}

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: OAuthErrorCode,
    /** Safe, client-facing description (no internal detail). */
    readonly description: string,
    /** Internal reason, logged, never sent. */
    readonly reason?: string,
    readonly challenge?: Challenge,
    readonly extraHeaders?: Readonly<Record<string, string>>,
  ) {
    super(reason ?? description);
    this.name = 'OAuthError';
  }
}

/**
 * RFC 9110 §5.6.4 quoted-string: backslash-escape `"` and `\`; control characters cannot be
 * represented and are dropped, so no value can split or inject a header.
 */
export function quote(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function bearerChallenge(c: Challenge, code?: OAuthErrorCode, description?: string): string {
  const params: string[] = [];
  if (c.includeError && code) params.push(`error=${quote(code)}`);
  if (c.includeError && description) params.push(`error_description=${quote(description)}`);
  if (c.scope) params.push(`scope=${quote(c.scope)}`);
  if (c.resourceMetadata) params.push(`resource_metadata=${quote(c.resourceMetadata)}`);
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/** JSON response with the headers every OAuth/MCP error and token response needs. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    },
  });
}

export function errorResponse(err: OAuthError, headers: Record<string, string> = {}): Response {
  const h: Record<string, string> = { ...headers, ...err.extraHeaders };
  if (err.challenge) h['www-authenticate'] = bearerChallenge(err.challenge, err.code, err.description);
  return jsonResponse(err.status, { error: err.code, error_description: err.description }, h);
}

/** 503 `temporarily_unavailable` with `Retry-After`: our dependency failed, not the client. */
export function temporarilyUnavailable(description: string, reason: string): OAuthError {
  return new OAuthError(503, 'temporarily_unavailable', description, reason, undefined, {
    'retry-after': '5',
  });
}

/** Anything that is not an `OAuthError` becomes an opaque 500. */
export function toOAuthError(e: unknown): OAuthError {
  if (e instanceof OAuthError) return e;
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new OAuthError(500, 'server_error', 'internal error', reason);
}
