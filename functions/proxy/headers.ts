/**
 * Pure header policy for forwarding requests upstream and responses back.
 */
import { SOURCE_IP_HEADER } from '../shared/function-url.ts';
import { ORIGIN_SECRET_HEADER } from '../shared/origin-secret.ts';
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
  // Answered by the host in front of us (Function URL, the local runner): the body has arrived
  // by the time the handler runs, and undici refuses to send it on (RFC 9110 §10.1.1).
  'expect',
]);

/** Never forwarded upstream: the client's credentials stay at the proxy (no token passthrough). */
const CREDENTIALS = new Set(['authorization', 'cookie']);

/** Set by the proxy itself (or internal to it); an inbound copy is dropped. */
const PROXY_SET = new Set([
  'accept-encoding',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-for',
  'forwarded',
  SOURCE_IP_HEADER,
  ORIGIN_SECRET_HEADER,
]);

/**
 * Claims about the client's address or the hops in front of the proxy. A client calling the
 * Function URL (or CloudFront, which passes viewer headers on) can write any of them, and
 * upstreams use them for rate limits, allow lists and audit logs; the proxy sets
 * `X-Forwarded-For` from what Lambda saw instead (`requestContext.http.sourceIp`).
 */
const CLIENT_CLAIMS = new Set([
  'x-forwarded-port',
  'x-forwarded-ssl',
  'x-forwarded',
  'forwarded-for',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'cf-connecting-ip',
  'fastly-client-ip',
]);

/** Name prefixes of what CloudFront tells an origin about the viewer (`CloudFront-Viewer-Address`, ...). */
const CLIENT_CLAIM_PREFIXES = ['cloudfront-', 'x-amz-cf-'];

/**
 * Request-override headers: frameworks and servers that honour them (IIS/ASP.NET, Symfony, Rails,
 * Express method-override, Envoy) would route or dispatch on a path or method other than the one
 * the proxy authorized, bypassing its exact-path policy. Never forwarded.
 */
const OVERRIDES = new Set([
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-forwarded-uri',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-envoy-original-path',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  // Host overrides and framework-internal markers (Next.js middleware bypass, CVE-2025-29927).
  'x-original-host',
  'x-host',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-middleware-subrequest',
]);

/** Every inbound header the upstream never sees (by normalized name). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...CREDENTIALS, ...PROXY_SET, ...OVERRIDES, ...CLIENT_CLAIMS]);

function notForwarded(normalized: string): boolean {
  return NOT_FORWARDED.has(normalized) || CLIENT_CLAIM_PREFIXES.some((p) => normalized.startsWith(p));
}

/**
 * A header name as an upstream may read it: case-insensitive (RFC 9110 §5.1), and with `_` folded
 * into `-` (CGI/WSGI-style servers expose `X_MCP_AUTH_SUBJECT` and `X-MCP-AUTH-SUBJECT` as the same
 * variable; some frameworks do the same). Every drop decision is made on this form, so an inbound
 * `x_mcp_auth_subject` cannot stand in for the identity header the proxy sets.
 */
export function normalizeHeaderName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

function connectionTokens(h: Headers): Set<string> {
  return new Set((h.get('connection') ?? '').split(',').map((s) => normalizeHeaderName(s.trim())));
}

const utf8 = new TextEncoder();
const pct = (ch: string) =>
  Array.from(utf8.encode(ch), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * Identity header value, reversibly: `%`, every character outside visible ASCII and a leading or
 * trailing space (HTTP strips those, RFC 9110 §5.5) become their UTF-8 percent-encoding; the
 * rest is unchanged. Since `%` itself is encoded, percent-decoding (`decodeURIComponent`, not
 * form decoding) always gives back the exact claim, and distinct claims give distinct headers.
 */
export function headerSafe(v: string): string {
  // A lone surrogate has no UTF-8 form; identityOf refuses such claims before we get here.
  if (/\p{Cs}/u.test(v)) throw new TypeError('identity value is not well-formed Unicode');
  let out = '';
  const chars = Array.from(v);
  chars.forEach((ch, i) => {
    const edgeSpace = ch === ' ' && (i === 0 || i === chars.length - 1);
    out += ch !== '%' && !edgeSpace && ch >= ' ' && ch <= '~' ? ch : pct(ch);
  });
  return out;
}

export interface ForwardContext {
  readonly identity: Identity;
  readonly identityPrefix: string;
  readonly publicOrigin: string;
  /** The caller's address as Lambda saw it; becomes `X-Forwarded-For`. @default not sent */
  readonly sourceIp?: string;
}

export function upstreamRequestHeaders(inbound: Headers, ctx: ForwardContext): Record<string, string> {
  const named = connectionTokens(inbound);
  const out: Record<string, string> = {};
  inbound.forEach((value, key) => {
    const n = normalizeHeaderName(key);
    if (notForwarded(n) || named.has(n)) return;
    if (n.startsWith(ctx.identityPrefix)) return; // clients cannot spoof identity headers
    out[key.toLowerCase()] = value;
  });
  const origin = new URL(ctx.publicOrigin);
  // Uncompressed answers only: the response step reads SSE events (heartbeats, the legacy
  // `endpoint` rewrite) and filters listings, which it cannot do in compressed bytes. The hop to
  // the upstream is the proxy's, not the client's.
  out['accept-encoding'] = 'identity';
  out['x-forwarded-host'] = origin.host;
  out['x-forwarded-proto'] = origin.protocol.replace(':', '');
  if (ctx.sourceIp) out['x-forwarded-for'] = ctx.sourceIp;
  const p = ctx.identityPrefix;
  out[`${p}subject`] = headerSafe(ctx.identity.subject);
  if (ctx.identity.clientId) out[`${p}client-id`] = headerSafe(ctx.identity.clientId);
  out[`${p}scopes`] = headerSafe(ctx.identity.scopes.join(' '));
  out[`${p}issuer`] = headerSafe(ctx.identity.issuer);
  return out;
}

/**
 * Owned by the proxy on the way back: CORS (the proxy applies its own `cors` policy) and the
 * authentication challenge (the proxy is the resource server, RFC 6750 §3 / RFC 9728 §5.1).
 */
function proxyOwnedResponseHeader(k: string): boolean {
  return k.startsWith('access-control-') || k === 'www-authenticate';
}

/**
 * Cookies the facade sets on its origin (the consent nonce, the relay's browser binding). In the
 * single-origin set-up (CloudFront, the local runner) the upstream answers on the same origin, so
 * an upstream `Set-Cookie` with one of these names would plant a value the facade trusts. Browsers
 * match the `__Host-`/`__Secure-` prefixes case-insensitively; so does this check. Other upstream
 * cookies pass (an MCP server may use cookies of its own, e.g. a load balancer's).
 */
export const FACADE_COOKIE_PREFIXES = ['__host-mcp-', '__secure-mcp-'];

function facadeCookie(setCookie: string): boolean {
  // A nameless cookie (`=__Host-mcp-consent=…`) is read by some user agents as that name.
  const name = setCookie
    .replace(/^[\s=]+/, '')
    .split('=', 1)[0]!
    .toLowerCase();
  return FACADE_COOKIE_PREFIXES.some((p) => name.startsWith(p));
}

/** Upstream response headers the client may see. */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): Headers {
  const named = new Set(
    String(upstream.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase()),
  );
  const out = new Headers();
  for (const [key, value] of Object.entries(upstream)) {
    const k = key.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(k) || named.has(k) || proxyOwnedResponseHeader(k)) continue;
    if (k === 'set-cookie') {
      for (const v of Array.isArray(value) ? value : [value]) if (!facadeCookie(v)) out.append(k, v);
    } else if (Array.isArray(value)) for (const v of value) out.append(k, v);
    else out.set(k, value);
  }
  return out;
}

export function isEventStream(contentType: string | null | undefined): boolean {
  return /^text\/event-stream\b/i.test(contentType ?? '');
}
