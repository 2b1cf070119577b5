/**
 * The one HTTP edge to the identity provider (metadata, registration, token endpoint, Asgardeo's
 * management API): bounded in time, no redirects followed, TLS always verified (the platform
 * default; nothing here can turn it off), and every transport failure turned into a
 * `DependencyError` (503 `temporarily_unavailable`) with the detail logged only.
 */
import { isSecureUrl } from '../shared/config/index.ts';
import { DependencyError } from '../shared/errors.ts';

export const IDP_TIMEOUT_MS = 10_000;

export interface IdpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string | null;
  readonly text: string;
  /** The body as a JSON object, when it is one and says it is JSON. */
  readonly json?: Record<string, unknown>;
}

export interface IdpCallOptions {
  /** @default IDP_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** What the client is told when the IdP cannot be reached (default: the generic sentence). */
  readonly description?: string;
}

/** The IdP could not be reached or answered with a failure of its own (503, never the client's fault). */
export function unavailable(reason: string, description?: string): DependencyError {
  return new DependencyError('identity provider', 'unreachable', reason, description);
}

/** `text` parsed, when it is a JSON object. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function idpCall(
  http: typeof fetch,
  what: string,
  url: string,
  init: RequestInit,
  opts: IdpCallOptions = {},
): Promise<IdpReply> {
  let res: Response;
  let text: string;
  try {
    res = await http(url, {
      ...init,
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? IDP_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const cause = err.cause ? ` (${err.cause.code ?? ''} ${err.cause.message ?? ''})` : '';
    throw unavailable(`${what} ${url} failed: ${err.name}: ${err.message}${cause}`, opts.description);
  }
  const contentType = res.headers.get('content-type');
  const json = (contentType ?? '').toLowerCase().includes('json') ? jsonObject(text) : undefined;
  return { status: res.status, headers: res.headers, contentType, text, json };
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
