/**
 * HTTP edge to an identity provider: bounded in time, no redirects followed, TLS always verified
 * (the platform default; nothing here can turn it off), and every transport failure turned into
 * 503 `temporarily_unavailable` with the detail logged only.
 */
import { isSecureUrl } from '../shared/config/index.ts';
import { isObject } from '../shared/encoding.ts';
import { DependencyError, OAuthError } from '../shared/errors.ts';
import { isLoopbackHost } from '../shared/http-bits.ts';
import { unavailable } from './token.ts';

export const IDP_TIMEOUT_MS = 10_000;

export interface IdpReply {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  /** Parsed JSON object body, if the body is one. */
  readonly json?: Record<string, unknown>;
}

export async function idpCall(
  http: typeof fetch,
  what: string,
  url: string,
  init: RequestInit,
  timeoutMs = IDP_TIMEOUT_MS,
): Promise<IdpReply> {
  let res: Response;
  let text: string;
  try {
    res = await http(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const cause = err.cause ? ` (${err.cause.code ?? ''} ${err.cause.message ?? ''})` : '';
    throw unavailable(`${what} ${url} failed: ${err.name}: ${err.message}${cause}`);
  }
  const contentType = res.headers.get('content-type');
  let json: Record<string, unknown> | undefined;
  if ((contentType ?? '').toLowerCase().includes('json')) {
    try {
      const v = JSON.parse(text) as unknown;
      if (isObject(v)) json = v;
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, contentType, text, json };
}

/** IdP endpoints must be https, or http on loopback (local runs; config's `isSecureUrl`). Throws a config-class error. */
export function checkIdpUrl(what: string, v: unknown): string {
  if (typeof v !== 'string')
    throw new DependencyError('identity provider', 'misconfigured', `${what} missing`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new DependencyError('identity provider', 'misconfigured', `${what} is not a URL: ${v}`);
  }
  if (isSecureUrl(u)) return v;
  throw new DependencyError('identity provider', 'misconfigured', `${what} must be https: ${v}`);
}
