/**
 * Pure header policy for forwarding requests upstream and responses back.
 */
import type { Identity } from './token.ts';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus ones the proxy owns. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** Never forwarded upstream: the client's credentials stay at the proxy (no token passthrough). */
const CREDENTIALS = new Set(['authorization', 'cookie']);

function connectionTokens(h: Headers): Set<string> {
  return new Set(
    (h.get('connection') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Header values must be visible ASCII; anything else is percent-encoded. */
export function headerSafe(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v);
}

export interface ForwardContext {
  readonly identity: Identity;
  readonly identityPrefix: string;
  readonly publicOrigin: string;
}

export function upstreamRequestHeaders(inbound: Headers, ctx: ForwardContext): Record<string, string> {
  const named = connectionTokens(inbound);
  const out: Record<string, string> = {};
  inbound.forEach((value, key) => {
    const k = key.toLowerCase();
    if (HOP_BY_HOP.has(k) || CREDENTIALS.has(k) || named.has(k)) return;
    if (k.startsWith(ctx.identityPrefix)) return; // clients cannot spoof identity headers
    if (k === 'x-forwarded-host' || k === 'x-forwarded-proto' || k === 'forwarded') return;
    out[k] = value;
  });
  const origin = new URL(ctx.publicOrigin);
  out['x-forwarded-host'] = origin.host;
  out['x-forwarded-proto'] = origin.protocol.replace(':', '');
  const p = ctx.identityPrefix;
  out[`${p}subject`] = headerSafe(ctx.identity.subject);
  if (ctx.identity.clientId) out[`${p}client-id`] = headerSafe(ctx.identity.clientId);
  out[`${p}scopes`] = headerSafe(ctx.identity.scopes.join(' '));
  out[`${p}issuer`] = headerSafe(ctx.identity.issuer);
  return out;
}

/** Upstream response headers the client may see. */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): Headers {
  const named = new Set(
    String(upstream.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = new Headers();
  for (const [key, value] of Object.entries(upstream)) {
    const k = key.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    if (Array.isArray(value)) for (const v of value) out.append(k, v);
    else out.set(k, value);
  }
  return out;
}

export function isEventStream(contentType: string | null | undefined): boolean {
  return /^text\/event-stream\b/i.test(contentType ?? '');
}
