/**
 * Wire-format primitives shared by both functions, the config and lib/ (pure): JSON shapes,
 * the OAuth scope syntax, and HTTP Basic client credentials. RFC 6749 §2.3.1: the client id and
 * the secret are each encoded with `application/x-www-form-urlencoded` (Appendix B) before they
 * are joined with `:` and base64-encoded, so ids and secrets may contain `:` and any other character.
 */

/** A JSON object (parsed YAML/JSON mapping): not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR. */
export const SCOPE_SYNTAX = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/** `application/x-www-form-urlencoded` encoding of one value (WHATWG URL serializer: space → `+`). */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** The value a form-encoded string stands for; undefined when it is not valid percent-encoding. */
export function formDecode(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const BASIC = /^Basic ([A-Za-z0-9+/=]+)$/i;

/** Whether an `Authorization` value is HTTP Basic credentials in the only syntax passed on. */
export function isBasic(authorization: string | null): authorization is string {
  return authorization !== null && BASIC.test(authorization);
}

/** `Authorization: Basic` from the two halves as they go on the wire (already form-encoded). */
export function basicHeader(encodedId: string, encodedSecret: string): string {
  return `Basic ${Buffer.from(`${encodedId}:${encodedSecret}`).toString('base64')}`;
}

/** `Authorization: Basic` for a client id and secret (RFC 6749 §2.3.1). */
export function basicAuth(id: string, secret: string): string {
  return basicHeader(formEncode(id), formEncode(secret));
}

/**
 * The two halves of Basic credentials, still form-encoded as the client sent them; undefined
 * when the value is not Basic syntax or has no `:` after a non-empty id.
 */
export function readBasic(authorization: string | null): { id: string; secret: string } | undefined {
  const m = BASIC.exec(authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 ? { id: decoded.slice(0, i), secret: decoded.slice(i + 1) } : undefined;
}
