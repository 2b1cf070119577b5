/**
 * The listing filter (mcp/listing.ts) on the response step. A JSON body is buffered, bounded in
 * size (`MAX_LISTING_BYTES`) and time, then filtered; an SSE body is filtered event by event by
 * the stream's framing (sse.ts `MessageTransform`), so it keeps streaming. A body the filter
 * cannot read where a listing must be (compressed, too large, not UTF-8 JSON, too slow) fails
 * closed with a JSON-RPC error; the upstream is aborted.
 */
import { collectBounded } from '../../shared/body.ts';
import { jsonRpcError, type OAuthError } from '../../shared/errors.ts';
import { isEventStream } from '../headers.ts';
import {
  type Correlation,
  filterListingText,
  UNREADABLE_LISTING,
  UNREADABLE_MESSAGE,
  UnreadableListing,
} from '../mcp/listing.ts';
import type { ListingFilter } from '../mcp/types.ts';
import type { MessageTransform } from '../sse.ts';
import type { Forwarded } from './forward.ts';
import type { UpstreamResponse } from './upstream.ts';

/** The most a JSON response holding a listing may be (bytes) for the proxy to filter it. */
export const MAX_LISTING_BYTES = 4 * 1024 * 1024;

const unreadable = (reason: string): OAuthError =>
  jsonRpcError(
    502,
    { id: null, code: UNREADABLE_LISTING, message: UNREADABLE_MESSAGE },
    reason,
    'bad_gateway',
  );

export function isJsonBody(contentType: string | null): boolean {
  return /^application\/json\s*(?:;|$)/i.test(contentType ?? '');
}

/** Only bytes as sent can be filtered: a compressed body where a listing may be fails closed. */
function requireIdentityEncoding(headers: Headers, up: UpstreamResponse, abort: AbortController): void {
  const enc = (headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity') return;
  abort.abort();
  up.body.destroy();
  throw unreadable(`listing response with content-encoding ${enc}`);
}

/** How one response is filtered: its JSON body as a whole, or its SSE message events. */
export type ListingPlan =
  | {
      readonly kind: 'json';
      readonly listing: ListingFilter;
      readonly by: Correlation;
      readonly transform?: undefined;
    }
  | { readonly kind: 'sse'; readonly transform: MessageTransform };

/**
 * Whether (and how) to filter this response: only 2xx JSON or SSE bodies, the only ones a client
 * reads JSON-RPC from. A POST's own responses are matched by id; a GET stream carries answers to
 * other requests (legacy `/sse`, a resumed stream), so there listings are recognised by shape.
 */
export function planListing(
  listing: ListingFilter | undefined,
  method: string,
  { up, abort }: Forwarded,
  headers: Headers,
): ListingPlan | undefined {
  if (!listing || up.status < 200 || up.status >= 300) return undefined;
  const sse = isEventStream(headers.get('content-type'));
  if (!sse && !isJsonBody(headers.get('content-type'))) return undefined;
  requireIdentityEncoding(headers, up, abort);
  const by: Correlation = method === 'POST' ? 'id' : 'shape';
  return sse ? { kind: 'sse', transform: listingTransform(listing, by) } : { kind: 'json', listing, by };
}

/** The SSE hook: a message event's data filtered; data that is not JSON passes (no reader takes it for a listing). */
export function listingTransform(listing: ListingFilter, by: Correlation): MessageTransform {
  return (data) => {
    try {
      const out = filterListingText(listing, data, by);
      return out === data ? undefined : out;
    } catch (e) {
      if (e instanceof UnreadableListing) return undefined;
      throw e;
    }
  };
}

async function readBody(up: UpstreamResponse, limit: number): Promise<Uint8Array> {
  const declared = Number(up.headers['content-length']);
  if (declared > limit) throw unreadable(`listing response of ${declared} bytes over ${limit}`);
  const bytes = await collectBounded(up.body, limit);
  if (!bytes) throw unreadable(`listing response over ${limit} bytes`);
  return bytes;
}

/** The whole body, within `maxMs`; the upstream is aborted however this ends. */
async function readWithin(up: UpstreamResponse, abort: AbortController, maxMs: number, limit: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    if (!Number.isFinite(maxMs)) return;
    timer = setTimeout(
      () => {
        reject(
          jsonRpcError(
            504,
            { id: null, code: UNREADABLE_LISTING, message: 'upstream timed out' },
            'listing response too slow',
            'gateway_timeout',
          ),
        );
      },
      Math.max(0, maxMs),
    );
  });
  try {
    return await Promise.race([readBody(up, limit), late]);
  } catch (e) {
    if ((e as OAuthError).jsonRpc) throw e;
    throw unreadable(`listing response body failed: ${String(e)}`);
  } finally {
    clearTimeout(timer);
    abort.abort();
    up.body.destroy();
  }
}

/** The filtered JSON response, with its new `Content-Length`. */
export async function filteredJsonResponse(
  { up, abort }: Forwarded,
  plan: Extract<ListingPlan, { kind: 'json' }>,
  headers: Headers,
  maxMs: number,
): Promise<Response> {
  const bytes = await filteredJsonBody(up, abort, plan.listing, plan.by, maxMs);
  headers.set('content-length', String(bytes.length));
  // Chunks from the upstream edge (Node Buffers) and encoded text are backed by an ArrayBuffer.
  return new Response(bytes as Uint8Array<ArrayBuffer>, { status: up.status, headers });
}

/** A JSON body filtered: the upstream's bytes unchanged when nothing was removed. */
export async function filteredJsonBody(
  up: UpstreamResponse,
  abort: AbortController,
  listing: ListingFilter,
  by: Correlation,
  maxMs: number,
  limit = MAX_LISTING_BYTES,
): Promise<Uint8Array> {
  const bytes = await readWithin(up, abort, maxMs, limit);
  if (!bytes.length) return bytes; // nothing to show
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw unreadable('listing response is not UTF-8');
  }
  let out: string;
  try {
    out = filterListingText(listing, text, by);
  } catch (e) {
    if (e instanceof UnreadableListing) throw unreadable(`listing response is not JSON: ${e.message}`);
    throw e;
  }
  return out === text ? bytes : new TextEncoder().encode(out);
}
