/**
 * Strict JSON text for the MCP parser (pure): UTF-8 without a BOM, valid JSON (`JSON.parse`), and
 * no object with the same key twice at any depth. `JSON.parse` silently keeps the last of two
 * equal keys while other parsers keep the first (or, like Go's, also match keys case-insensitively),
 * so a body with a duplicate key means different things to the proxy and to the upstream.
 *
 * The checks run on text `JSON.parse` has already accepted, so they only have to tell strings,
 * keys and containers apart: one pass that counts members (strings skipped with `indexOf`),
 * compared with the properties `JSON.parse` kept; only when they differ, a second pass with the
 * keys of each object finds the duplicate (keys decoded only when they contain an escape:
 * `"\u006dethod"` is `"method"`).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Why a text is not strict JSON; `element` is the index of the batch element it is in, if any. */
export type JsonProblem =
  | { readonly kind: 'encoding'; readonly detail: string }
  | { readonly kind: 'syntax'; readonly detail: string }
  | { readonly kind: 'duplicate'; readonly key: string; readonly depth: number; readonly element?: number }
  | { readonly kind: 'depth'; readonly element?: number };

export class StrictJsonError extends Error {
  constructor(readonly problem: JsonProblem) {
    super(problem.kind);
    this.name = 'StrictJsonError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a UTF-8 body: invalid UTF-8 and a byte order mark (RFC 8259 §8.1) are refused. */
export function decodeStrictUtf8(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new StrictJsonError({ kind: 'encoding', detail: 'byte order mark' });
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new StrictJsonError({ kind: 'encoding', detail: 'invalid UTF-8' });
  }
}

/** `JSON.parse`, then the duplicate-key and depth checks: the value of a strict JSON text. */
export function parseStrictJson(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new StrictJsonError({ kind: 'syntax', detail: (e as Error).message });
  }
  if (typeof value !== 'object' || value === null) return value;
  // Fast path: every `:` outside strings separates one member; JSON.parse kept one property per
  // distinct key, so the counts differ exactly when an object repeats a key. Only then (or when
  // the nesting is too deep) the slower scan runs, to say where.
  const members = countMembersInText(text, maxDepth);
  if (members < 0 || members !== countMembers(value)) {
    scanKeys(text, maxDepth);
    // Unreachable when the two passes agree; refused all the same if they ever do not.
    throw new StrictJsonError({ kind: 'duplicate', key: '', depth: 0 });
  }
  return value;
}

/** The `:` outside strings of valid JSON text; -1 when nested deeper than `maxDepth`. */
export function countMembersInText(text: string, maxDepth: number): number {
  let n = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === COLON) n++;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return -1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return n;
}

/** Own properties of every object in a parsed JSON value. */
function countMembers(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += countMembers(x);
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) n += 1 + countMembers(o[k]);
  return n;
}

/** Index of the quote closing the string that opens at `start` (valid JSON: there is one). */
function stringEnd(text: string, start: number): number {
  let j = text.indexOf('"', start + 1);
  for (;;) {
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - k) % 2 === 1) return j; // an even number of backslashes before it: not escaped
    j = text.indexOf('"', j + 1);
  }
}

/**
 * One pass over valid JSON text: throws on a key seen twice in one object, or nesting deeper than
 * `maxDepth`. `stack` holds each open container's keys (objects) or null (arrays).
 */
export function scanKeys(text: string, maxDepth: number): void {
  const stack: (Set<string> | null)[] = [];
  let keys: Set<string> | null = null;
  let expectKey = false;
  let element = 0; // index of the current element of a top-level array
  const batch = text.charCodeAt(text.search(/\S/)) === OPEN_ARRAY;
  const where = () => (batch ? { element } : {});
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (keys !== null && expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (keys.has(key)) {
          throw new StrictJsonError({ kind: 'duplicate', key, depth: stack.length, ...where() });
        }
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      stack.push(keys);
      if (stack.length > maxDepth) throw new StrictJsonError({ kind: 'depth', ...where() });
      keys = c === OPEN_OBJECT ? new Set() : null;
      expectKey = keys !== null;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      keys = stack.pop() ?? null;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = keys !== null;
      if (batch && stack.length === 1) element++;
    }
  }
}
