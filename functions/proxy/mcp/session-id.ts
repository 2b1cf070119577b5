/**
 * Stateless session binding (issue 11 item 5; MCP security best practices, "Session Hijacking":
 * servers SHOULD bind session ids to the user). Pure.
 *
 * Every session id the upstream hands out — the `Mcp-Session-Id` response header (Streamable
 * HTTP) and the `sessionId` / `session_id` query parameter of the legacy HTTP+SSE `endpoint`
 * event — reaches the client wrapped: sealed (shared/seal.ts, HMAC-SHA-256) under a key of its
 * own for the token's issuer and subject, derived from the proxy's session key. Every session id
 * a client presents is unwrapped before it is forwarded; one that does not open under this
 * token's key — another subject's or issuer's, altered, forged, or the upstream's raw id — is a
 * 404, the transport's answer to an unknown session (the client initializes again), and never
 * reaches the upstream. Nothing is stored: every instance with the same key opens every id.
 *
 * A wrapped id is `b64url(json).b64url(mac)`: visible ASCII only (the spec's rule for session
 * ids) and safe in a query string unencoded. The upstream id inside is readable by the client
 * (it was before); only forging one is impossible.
 */

import { formDecode } from '../../shared/encoding.ts';
import type { JsonRpcId } from '../../shared/errors.ts';
import { jsonRpcError, type OAuthError } from '../../shared/errors.ts';
import { labelKey, seal, unseal } from '../../shared/seal.ts';
import { normalizeHeaderName } from '../headers.ts';

/** The Streamable HTTP session header (lower case, as `Headers` names it). */
export const SESSION_HEADER = 'mcp-session-id';

/** The sealed payload's purpose (shared/seal.ts): no other sealed value opens as a session id. */
const PURPOSE = 'mcp-session';

/** The longest upstream session id wrapped (visible ASCII characters). */
export const MAX_UPSTREAM_ID_CHARS = 1024;

/** The longest wrapped id unwrapped: an upstream id of the maximum length, JSON-escaped, sealed. */
export const MAX_WRAPPED_CHARS = 4096;

/** MCP transports: a session id "MUST only contain visible ASCII characters (0x21 to 0x7E)". */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Whose session it is: the token's issuer and subject. */
export interface SessionOwner {
  readonly issuer: string;
  readonly subject: string;
}

/** The key of one owner: an id sealed for one (issuer, subject) opens for no other. */
function ownerKey(key: Uint8Array, owner: SessionOwner): Uint8Array {
  return labelKey(key, `mcp-session:${JSON.stringify([owner.issuer, owner.subject])}`);
}

/** The id the client gets for an upstream id; undefined when the upstream's id is not one (charset, length). */
export function wrapSessionId(key: Uint8Array, owner: SessionOwner, upstreamId: string): string | undefined {
  if (upstreamId.length > MAX_UPSTREAM_ID_CHARS || !VISIBLE_ASCII.test(upstreamId)) return undefined;
  return seal(ownerKey(key, owner), PURPOSE, { s: upstreamId });
}

/** The upstream id inside a wrapped one, if it was wrapped for this owner under this key. */
export function unwrapSessionId(key: Uint8Array, owner: SessionOwner, wrapped: string): string | undefined {
  const o = unseal(ownerKey(key, owner), PURPOSE, wrapped, MAX_WRAPPED_CHARS);
  return typeof o?.s === 'string' ? o.s : undefined;
}

/**
 * Whether some server reads a query parameter of this name as the session id: `sessionId` (the
 * TypeScript SDK), `session_id` (the Python SDK), in any case (frameworks with case-insensitive
 * query keys) and with `-`/`_` in any place.
 */
export function isSessionParam(name: string): boolean {
  // What query parsers make of a name: qs and PHP read `sessionId[]` / `sessionId[0]` as
  // `sessionId` (an array holding the value), PHP reads `session.id` and `session id` as
  // `session_id`: only the part before a `[` counts, without separators, in any case.
  const bracket = name.indexOf('[');
  const base = bracket === -1 ? name : name.slice(0, bracket);
  return base.toLowerCase().replace(/[^a-z0-9]/g, '') === 'sessionid';
}

/**
 * The query string with every session parameter's value mapped by `f` (others unchanged, byte for
 * byte); undefined when one cannot be decoded or `f` refuses it. `&` and `;` both separate
 * parameters (some servers split on `;`), so neither can hide a session parameter.
 */
export function mapSessionParams(search: string, f: (v: string) => string | undefined): string | undefined {
  if (search.length <= 1) return search;
  const parts = search.slice(1).split(/([&;])/);
  for (let i = 0; i < parts.length; i += 2) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    if (!isSessionParam(formDecode(rawName) ?? rawName)) continue;
    const value = formDecode(eq === -1 ? '' : part.slice(eq + 1));
    const mapped = value === undefined ? undefined : f(value);
    if (mapped === undefined) return undefined;
    parts[i] = `${rawName}=${encodeURIComponent(mapped)}`;
  }
  return `?${parts.join('')}`;
}

/** What the forward and response steps do with one request's session ids. */
export interface SessionBinding {
  /** The query string to forward (session parameters unwrapped). */
  readonly search: string;
  /** Upstream request headers (as upstreamRequestHeaders built them): session ids unwrapped. */
  unwrapHeaders(out: Record<string, string>): void;
  /** The upstream's `Mcp-Session-Id` wrapped; false when it could not be (dropped instead). */
  wrapResponse(headers: Headers): boolean;
  /** A legacy `endpoint` URL with its session parameters wrapped; undefined when one cannot be. */
  wrapEndpoint(url: string): string | undefined;
}

/** 404 with the JSON-RPC error the SDK servers send for an unknown session. */
export function unknownSession(reason: string, id: JsonRpcId = null): OAuthError {
  return jsonRpcError(404, { id, code: -32001, message: 'Session not found' }, reason, 'not_found');
}

/** Every inbound session header (any spelling an upstream may fold into `Mcp-Session-Id`), unwrapped. */
function openHeaders(
  headers: Headers,
  open: (v: string) => string | undefined,
): Map<string, string> | OAuthError {
  const raw = new Map<string, string>();
  let refused: OAuthError | undefined;
  headers.forEach((value, name) => {
    if (refused || normalizeHeaderName(name) !== SESSION_HEADER) return;
    const id = open(value);
    if (id === undefined) refused = unknownSession(`session header ${name} not bound to this token`);
    else raw.set(name, id);
  });
  return refused ?? raw;
}

/**
 * The binding of one request to its token's owner: throws the 404 when a session id it carries
 * (header or query) was not wrapped for this owner. A request without one is untouched.
 */
export function bindSession(
  key: Uint8Array,
  owner: SessionOwner,
  req: { readonly headers: Headers },
  search: string,
): SessionBinding {
  const open = (v: string) => unwrapSessionId(key, owner, v);
  const wrap = (v: string) => wrapSessionId(key, owner, v);
  const raw = openHeaders(req.headers, open);
  if (!(raw instanceof Map)) throw raw;
  const forwardedSearch = mapSessionParams(search, open);
  if (forwardedSearch === undefined) throw unknownSession('session query parameter not bound to this token');
  return {
    search: forwardedSearch,
    unwrapHeaders(out) {
      for (const [name, id] of raw) if (name in out) out[name] = id;
    },
    wrapResponse(headers) {
      const id = headers.get(SESSION_HEADER);
      if (id === null) return true;
      const wrapped = wrap(id);
      if (wrapped === undefined) headers.delete(SESSION_HEADER);
      else headers.set(SESSION_HEADER, wrapped);
      return wrapped !== undefined;
    },
    wrapEndpoint(url) {
      const u = new URL(url);
      const s = mapSessionParams(u.search, wrap);
      return s === undefined ? undefined : `${u.origin}${u.pathname}${s}`;
    },
  };
}
