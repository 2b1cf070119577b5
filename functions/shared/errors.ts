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

export interface OAuthErrorInit {
  readonly status: number;
  readonly code: OAuthErrorCode;
  /** Safe, client-facing description (no internal detail). */
  readonly description: string;
  /** Internal reason, logged, never sent. */
  readonly reason?: string;
  readonly challenge?: Challenge;
  /** Extra response headers (`Allow`, `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Answer with a JSON-RPC error body instead of the OAuth one (MCP endpoints, jsonRpcError). */
  readonly jsonRpc?: JsonRpcErrorBody;
}

/** A JSON-RPC 2.0 id: the request's, or null when it could not be read. */
export type JsonRpcId = string | number | null;

/** The JSON-RPC error a refusal of an MCP message carries (JSON-RPC 2.0 §5.1 codes, MCP's own). */
export interface JsonRpcErrorBody {
  readonly id: JsonRpcId;
  readonly code: number;
  readonly message: string;
}

export class OAuthError extends Error {
  readonly status: number;
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly reason?: string;
  readonly challenge?: Challenge;
  readonly extraHeaders?: Readonly<Record<string, string>>;
  readonly jsonRpc?: JsonRpcErrorBody;

  constructor(init: OAuthErrorInit) {
    super(init.reason ?? init.description);
    this.name = 'OAuthError';
    this.status = init.status;
    this.code = init.code;
    this.description = init.description;
    this.reason = init.reason;
    this.challenge = init.challenge;
    this.extraHeaders = init.headers;
    this.jsonRpc = init.jsonRpc;
  }
}

// Named factories for the responses every endpoint shares.

/** 400 with an OAuth error code (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2). */
export function badRequest(code: OAuthErrorCode, description: string, reason?: string): OAuthError {
  return new OAuthError({ status: 400, code, description, reason });
}

/** 401 `invalid_client` (RFC 6749 §5.2): unknown or unauthenticated client; clients register again. */
export function invalidClient(description: string, reason?: string): OAuthError {
  return new OAuthError({ status: 401, code: 'invalid_client', description, reason });
}

/** 403 `forbidden`: the request is well-formed and refused (e.g. an Origin not allowed). */
export function forbidden(description: string, reason?: string): OAuthError {
  return new OAuthError({ status: 403, code: 'forbidden', description, reason });
}

export function notFound(reason: string): OAuthError {
  return new OAuthError({ status: 404, code: 'not_found', description: 'no such endpoint', reason });
}

export function methodNotAllowed(allow: string): OAuthError {
  return new OAuthError({
    status: 405,
    code: 'method_not_allowed',
    description: 'method not allowed',
    headers: { allow },
  });
}

/**
 * An MCP message refused with a JSON-RPC error body (`{"jsonrpc":"2.0","id":…,"error":{…}}`), at
 * the HTTP status the transport prescribes (400 for a malformed message or a header mismatch).
 * The OAuth `code` is what the access log records.
 */
export function jsonRpcError(
  status: number,
  rpc: JsonRpcErrorBody,
  reason?: string,
  code: OAuthErrorCode = 'invalid_request',
): OAuthError {
  return new OAuthError({ status, code, description: rpc.message, reason, jsonRpc: rpc });
}

/** 413: a request body over the endpoint's limit. */
export function tooLarge(code: OAuthErrorCode, limitBytes: number): OAuthError {
  return new OAuthError({ status: 413, code, description: `request body larger than ${limitBytes} bytes` });
}

/**
 * A dependency (the IdP, SSM, the JWKS, the upstream) failed — not the client. Thrown by the I/O
 * edges and turned into a response in one place, `toOAuthError`: `unreachable` (network error,
 * timeout, 5xx) is a 503 `temporarily_unavailable` with `Retry-After`; `misconfigured` (a setting
 * or the dependency's answer cannot be used) is a 502 `server_error`.
 */
export class DependencyError extends Error {
  constructor(
    readonly dependency: 'identity provider' | 'secrets' | 'jwks' | 'upstream',
    readonly failure: 'unreachable' | 'misconfigured',
    /** Internal reason, logged, never sent. */
    readonly reason: string,
    /** Safe description, when the generic one would say too little. */
    readonly description?: string,
  ) {
    super(reason);
    this.name = 'DependencyError';
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
  if (err.jsonRpc) {
    const { id, code, message } = err.jsonRpc;
    return jsonResponse(err.status, { jsonrpc: '2.0', id, error: { code, message } }, h);
  }
  return jsonResponse(err.status, { error: err.code, error_description: err.description }, h);
}

/** 503 `temporarily_unavailable` with `Retry-After`: our dependency failed, not the client. */
export function temporarilyUnavailable(description: string, reason: string): OAuthError {
  return new OAuthError({
    status: 503,
    code: 'temporarily_unavailable',
    description,
    reason,
    headers: { 'retry-after': '5' },
  });
}

/** 429 with `Retry-After` (RFC 6585 §4): this caller sent too many requests of a kind. */
export function tooManyRequests(description: string, reason: string, retryAfterSeconds: number): OAuthError {
  return new OAuthError({
    status: 429,
    code: 'temporarily_unavailable',
    description,
    reason,
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

/** The one mapping from anything thrown to a response: typed errors by kind, the rest an opaque 500. */
export function toOAuthError(e: unknown): OAuthError {
  if (e instanceof OAuthError) return e;
  if (e instanceof DependencyError) {
    const reason = `${e.dependency}: ${e.reason}`;
    if (e.failure === 'unreachable') {
      return temporarilyUnavailable(
        e.description ?? `the ${e.dependency} is temporarily unavailable`,
        reason,
      );
    }
    return new OAuthError({
      status: 502,
      code: 'server_error',
      description: e.description ?? `the ${e.dependency} is misconfigured`,
      reason,
    });
  }
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new OAuthError({ status: 500, code: 'server_error', description: 'internal error', reason });
}
