/**
 * Filtered listings (issue 11): a `tools/list`, `prompts/list`, `resources/list` or
 * `resources/templates/list` result keeps only the entries the token may use (tools and prompts by
 * `name`, resources by `uri`, templates by `uriTemplate`); everything else in it (`nextCursor`,
 * `_meta`) is kept, so pagination works page by page. Pure: JSON-RPC text in, text out.
 *
 * Which responses are listings:
 * - `id`: a response whose id the request's ListingFilter (policy.ts `listingFilter`) says
 *   answered a listing call (the POST's own response, JSON or SSE);
 * - `shape`: any response whose `result` holds one of the four listing arrays (streams that carry
 *   answers to other HTTP requests: the legacy GET /sse stream, a resumed Streamable HTTP GET
 *   stream; their ids cannot be correlated across Lambda instances), fail closed.
 *
 * Fail closed: an entry that is not an object with a string key is dropped; a listing response
 * whose `result` is not an object or whose listing field is not an array becomes a JSON-RPC error
 * (`UNREADABLE_LISTING`) with the same id. Nothing else is changed, and an unchanged message is
 * returned as the very same text (never re-serialised). JSON is read as `JSON.parse` reads it.
 */
import { isObject } from '../../shared/encoding.ts';
import type { ListingFilter, ListMethod, OperationKind, PolicyView } from './types.ts';

interface ListShape {
  /** The array in `result`. */
  readonly field: string;
  /** The member of each entry the policy decides on. */
  readonly key: string;
  readonly kind: OperationKind;
}

export const LIST_SHAPES: Readonly<Record<ListMethod, ListShape>> = {
  'tools/list': { field: 'tools', key: 'name', kind: 'tool' },
  'prompts/list': { field: 'prompts', key: 'name', kind: 'prompt' },
  'resources/list': { field: 'resources', key: 'uri', kind: 'resource' },
  'resources/templates/list': { field: 'resourceTemplates', key: 'uriTemplate', kind: 'resource' },
};

/** How a response is recognised as a listing: by its id, or by the shape of its result. */
export type Correlation = 'id' | 'shape';

/** JSON-RPC 2.0 internal error: the upstream's listing could not be read, so none is shown. */
export const UNREADABLE_LISTING = -32603;
export const UNREADABLE_MESSAGE = 'upstream listing response could not be read';

/** Thrown by `filterListingText` when text that must be a listing is not JSON. */
export class UnreadableListing extends Error {
  override readonly name = 'UnreadableListing';
}

type Json = Record<string, unknown>;

/** The filter for a stream answering other requests (GET): listings recognised by shape only. */
export function streamListingFilter(view: PolicyView): ListingFilter {
  return { methodOf: () => undefined, view };
}

function shapesOf(filter: ListingFilter, msg: Json, by: Correlation): ListShape[] {
  if (by === 'id') {
    const id = msg.id;
    if (typeof id !== 'string' && typeof id !== 'number') return [];
    const method = filter.methodOf(id);
    return method ? [LIST_SHAPES[method]] : [];
  }
  const result = msg.result;
  if (!isObject(result)) return [];
  return Object.values(LIST_SHAPES).filter((s) => Object.hasOwn(result, s.field));
}

function unreadable(msg: Json): Json {
  return { jsonrpc: '2.0', id: msg.id, error: { code: UNREADABLE_LISTING, message: UNREADABLE_MESSAGE } };
}

function allowed(view: PolicyView, shape: ListShape, entry: unknown): boolean {
  if (!isObject(entry)) return false;
  const name = entry[shape.key];
  return typeof name === 'string' && view.allows(shape.kind, name);
}

/**
 * One parsed message filtered: the replacement, or undefined when it passes untouched (not a
 * response, an error, not a listing, or every entry allowed).
 */
export function filterListingMessage(filter: ListingFilter, msg: unknown, by: Correlation): unknown {
  if (!isObject(msg) || !Object.hasOwn(msg, 'result')) return undefined;
  const shapes = shapesOf(filter, msg, by);
  if (!shapes.length) return undefined;
  const result = msg.result;
  if (!isObject(result)) return unreadable(msg);
  let next: Json | undefined;
  for (const shape of shapes) {
    const list = result[shape.field];
    if (!Array.isArray(list)) return unreadable(msg);
    const kept = list.filter((e) => allowed(filter.view, shape, e));
    if (kept.length !== list.length) next = { ...(next ?? result), [shape.field]: kept };
  }
  return next ? { ...msg, result: next } : undefined;
}

/** A batch (array) or one message; undefined when nothing in it changed. */
function filterParsed(filter: ListingFilter, parsed: unknown, by: Correlation): unknown {
  if (!Array.isArray(parsed)) return filterListingMessage(filter, parsed, by);
  let changed = false;
  const out = parsed.map((m) => {
    const next = filterListingMessage(filter, m, by);
    if (next === undefined) return m;
    changed = true;
    return next;
  });
  return changed ? out : undefined;
}

/**
 * JSON-RPC text (a body or one SSE event's data) filtered: the same string when nothing changed.
 * Text that is not JSON throws `UnreadableListing` (the caller decides: a JSON body that must hold
 * a listing fails closed; an SSE event no JSON reader can take for a listing passes).
 */
export function filterListingText(filter: ListingFilter, text: string, by: Correlation): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UnreadableListing(e instanceof Error ? e.message : String(e));
  }
  const next = filterParsed(filter, parsed, by);
  return next === undefined ? text : JSON.stringify(next);
}
