/**
 * Tamper-evident values both functions hand to browsers and clients (pure): `b64url(json).b64url(mac)`
 * with HMAC-SHA-256 — the facade's under `discovery.signing_key` (client ids, relay states), the
 * proxy's under a key derived from its proxy secret (session ids, proxy/mcp/session-id.ts). Every
 * payload names its purpose (`t`), so a value signed for one use (a client id) can never be
 * replayed as another (a relay state).
 * Not encrypted: nothing in them is secret; they must only be impossible to forge.
 */
import { createHash, createHmac } from 'node:crypto';
import { sameBytes } from './constant-time.ts';

export const MIN_KEY_BYTES = 32;

const mac = (key: Uint8Array, data: string) => createHmac('sha256', key).update(data).digest();

/** SHA-256 of a value, base64url: how a sealed value names a browser nonce or a request. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** A key of its own for one label (HMAC of the label): values sealed under it open under no other. */
export function labelKey(key: Uint8Array, label: string): Uint8Array {
  return mac(key, label);
}

/** One key per facade issuer: values sealed for one deployment are worthless at another. */
export function issuerKey(key: Uint8Array, issuer: string): Uint8Array {
  return labelKey(key, `mcp-facade:${issuer}`);
}

export function seal(key: Uint8Array, purpose: string, payload: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify({ ...payload, t: purpose })).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** The payload if `value` was sealed with `key` for `purpose`; undefined otherwise. */
export function unseal(
  key: Uint8Array,
  purpose: string,
  value: string,
  maxLength: number,
): Record<string, unknown> | undefined {
  if (value.length > maxLength) return undefined;
  const dot = value.indexOf('.');
  if (dot < 1) return undefined;
  const body = value.slice(0, dot);
  const sigText = value.slice(dot + 1);
  // Exactly one spelling of the MAC: compared as text, since base64url decoding skips junk
  // characters and ignores the low bits of the last one (four spellings of the same bytes).
  if (!sameBytes(sigText, mac(key, body).toString('base64url'))) return undefined;
  try {
    // `null` throws here too; any other non-object has no `t`.
    const o = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    return o.t === purpose ? o : undefined;
  } catch {
    return undefined;
  }
}
