/**
 * Client ID Metadata Documents, the I/O edge: fetching the document a `client_id` URL names and
 * the per-instance cache of verified documents (the rules are cimd.ts's).
 *
 * The fetch is an SSRF surface (draft §6.5), so: `https` only; every address the host name
 * resolves to is checked (ssrf.ts) inside the connection's own DNS lookup, and the connection goes
 * to exactly the addresses that were checked — no second resolution a DNS-rebinding answer could
 * change; an IP-literal host is checked before anything is sent; TLS always verified; redirects
 * never followed (any status but 200 is a refusal, draft §4); at most 5 KB (draft §6.6) and 5 s for
 * the whole exchange; JSON only. Every failure is a 400 `invalid_client` (the client's document,
 * not our dependency) with the detail in the log only, and is never cached (draft §4.4).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { OAuthError } from '../shared/errors.ts';
import { mediaType } from '../shared/http-bits.ts';
import {
  CIMD_LIMITS,
  clientIdUrlProblem,
  type DocumentClient,
  documentCacheSeconds,
  documentRefused,
  validateDocument,
} from './cimd.ts';
import { type AddressPolicy, specialUseAddress } from './ssrf.ts';

export const DOCUMENT_TIMEOUT_MS = 5000;

/** Seams of the fetch. None of them is reachable from configuration. */
export interface DocumentFetchOptions extends AddressPolicy {
  /** Time for the whole exchange (connect, headers, body). @default DOCUMENT_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Trust anchors instead of the platform's (tests serving https on loopback). */
  readonly ca?: string;
  /** DNS resolution (all addresses). @default node:dns lookup with `all: true` */
  readonly resolve?: (hostname: string) => Promise<readonly LookupAddress[]>;
}

export interface FetchedDocument {
  readonly body: unknown;
  readonly cacheSeconds: number;
}

export type DocumentFetch = (url: string) => Promise<FetchedDocument>;

const systemResolve = (hostname: string) =>
  new Promise<LookupAddress[]>((ok, fail) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (e, a) => (e ? fail(e) : ok(a))),
  );

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/** `net.connect`'s `lookup`: resolve, refuse if ANY address is special-use, hand on the checked ones. */
export function guardedLookup(opts: DocumentFetchOptions) {
  const resolve = opts.resolve ?? systemResolve;
  return (hostname: string, options: { all?: boolean }, cb: LookupCallback): void => {
    resolve(hostname).then(
      (addrs) => {
        const bad = addrs
          .map((a) => [a.address, specialUseAddress(a.address, opts)] as const)
          .find(([, p]) => p);
        if (!addrs.length) return cb(new Error(`${hostname} has no address`), []);
        if (bad) return cb(new Error(`${hostname} resolves to ${bad[0]}: ${bad[1]}`), []);
        if (options.all) return cb(null, [...addrs]);
        cb(null, addrs[0]!.address, addrs[0]!.family);
      },
      (e: Error) => cb(e, []),
    );
  };
}

const refused = (reason: string) =>
  documentRefused('the client metadata document could not be fetched', reason);

/** Read at most `limit` bytes; more is a refusal. */
async function readLimited(body: AsyncIterable<Uint8Array> & { destroy(): void }, limit: number) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.byteLength;
    if (size > limit) {
      body.destroy();
      throw refused(`document larger than ${limit} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export function createDocumentFetch(opts: DocumentFetchOptions = {}): DocumentFetch {
  const timeoutMs = opts.timeoutMs ?? DOCUMENT_TIMEOUT_MS;
  const agent = new Agent({
    connections: 8,
    keepAliveTimeout: 5000,
    connect: { lookup: guardedLookup(opts), timeout: timeoutMs, ...(opts.ca ? { ca: opts.ca } : {}) },
  });
  return async (url) => {
    const u = new URL(url);
    if (u.protocol !== 'https:') throw refused('not https');
    const literal = u.hostname.replace(/^\[(.*)\]$/, '$1');
    const problem = isIP(literal) ? specialUseAddress(literal, opts) : undefined;
    if (problem) throw refused(`${literal}: ${problem}`);
    let res: Awaited<ReturnType<typeof request>>;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      res = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        dispatcher: agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (e) {
      const err = e as Error & { cause?: Error };
      throw refused(`${url}: ${err.message}${err.cause ? ` (${err.cause.message})` : ''}`);
    }
    return readDocument(url, res);
  };
}

async function readDocument(url: string, res: Awaited<ReturnType<typeof request>>): Promise<FetchedDocument> {
  const header = (k: string) => {
    const v = res.headers[k];
    return Array.isArray(v) ? v.join(', ') : (v ?? null);
  };
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => {});
    throw refused(
      `${url} answered ${res.statusCode}${header('location') ? ' (a redirect, not followed)' : ''}`,
    );
  }
  const type = mediaType(header('content-type'));
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    await res.body.dump().catch(() => {});
    throw refused(`content type ${type || 'missing'}`);
  }
  if (Number(header('content-length') ?? 0) > CIMD_LIMITS.documentBytes) {
    res.body.destroy();
    throw refused(`declared length over ${CIMD_LIMITS.documentBytes} bytes`);
  }
  let body: unknown;
  try {
    const bytes = await readLimited(res.body, CIMD_LIMITS.documentBytes);
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    if (e instanceof OAuthError) throw e;
    throw refused(`${url}: ${(e as Error).message}`);
  }
  return {
    body,
    cacheSeconds: documentCacheSeconds(header('cache-control'), header('expires'), header('date')),
  };
}

export interface DocumentResolver {
  /** The verified client behind a document `client_id`; 400 `invalid_client` otherwise. */
  resolve(clientId: string): Promise<DocumentClient>;
}

/** Verified documents cached per instance, for as long as their HTTP headers allow (bounded). */
export function createDocumentResolver(
  fetchDocument: DocumentFetch,
  allowedRedirectSchemes: readonly string[],
  opts: { readonly maxEntries?: number; readonly now?: () => number } = {},
): DocumentResolver {
  const maxEntries = opts.maxEntries ?? 500;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { client: DocumentClient; expiresAt: number }>();
  const inflight = new Map<string, Promise<DocumentClient>>();

  const load = async (clientId: string): Promise<DocumentClient> => {
    const fetched = await fetchDocument(clientId);
    const client = validateDocument(clientId, fetched.body, allowedRedirectSchemes);
    if (fetched.cacheSeconds > 0) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(clientId, { client, expiresAt: now() + fetched.cacheSeconds * 1000 });
    }
    return client;
  };

  return {
    async resolve(clientId) {
      const problem = clientIdUrlProblem(clientId);
      if (problem) throw documentRefused(problem, problem);
      const hit = cache.get(clientId);
      if (hit && hit.expiresAt > now()) return hit.client;
      if (hit) cache.delete(clientId);
      let p = inflight.get(clientId);
      if (!p) {
        p = load(clientId).finally(() => inflight.delete(clientId));
        inflight.set(clientId, p);
      }
      return p;
    },
  };
}
