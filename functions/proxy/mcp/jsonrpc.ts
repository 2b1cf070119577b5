/**
 * The strict JSON-RPC 2.0 parser of MCP POST bodies (pure; issue 11): the body is parsed once,
 * here, before any decision, and every later step (header agreement, scope policy, listing
 * filter, audit) reads the `ParsedBody`, never the bytes or the headers. Whatever the upstream's
 * parser would read differently is refused (docs/security.md, "Strict JSON-RPC"):
 *
 * - not UTF-8, a BOM, not JSON, a key twice in one object at any depth (json-scan.ts) → -32700;
 * - not an object or a non-empty array of objects, nesting deeper than `maxDepth`;
 * - a key at an envelope level (the message, its `params`) that differs from a JSON-RPC or MCP
 *   key only in case or compatibility form (`Method`, `ID`, `Params`, `ＭETHOD`, `Name`, `URI`…):
 *   Go's JSON decoder (the original proxy) matches keys case-insensitively, so `Method` beside
 *   `method` shadowed it there; here it is refused, whether or not the exact key is also present;
 * - `jsonrpc` not exactly "2.0"; a method that is not a plain ASCII token, or differs from an MCP
 *   method only in case; an id that is not a string or a safe integer (null only in an error
 *   response); `params` not an object; `result` with `error` or neither; an id twice in a batch
 *   → -32600;
 * - `tools/call`, `prompts/get` without a string `params.name`, `resources/read`, `/subscribe`,
 *   `/unsubscribe` without a string `params.uri` (or with lone surrogates, or without `params`
 *   at all) → -32602.
 */
import { type JsonRpcId, jsonRpcError, type OAuthError } from '../../shared/errors.ts';
import { decodeStrictUtf8, type JsonProblem, parseStrictJson, StrictJsonError } from './json-scan.ts';
import type { McpMessage, ParsedBody } from './types.ts';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;

export interface ParseOptions {
  /** Deepest nesting of arrays and objects accepted (the message itself is depth 1). */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_DEPTH = 64;

/** Every method of the MCP schemas 2024-11-05 to 2026-07-28 (for the case-variant check). */
export const MCP_METHODS: readonly string[] = [
  'initialize',
  'ping',
  'completion/complete',
  'elicitation/create',
  'logging/setLevel',
  'prompts/get',
  'prompts/list',
  'resources/list',
  'resources/read',
  'resources/subscribe',
  'resources/templates/list',
  'resources/unsubscribe',
  'roots/list',
  'sampling/createMessage',
  'server/discover',
  'subscriptions/listen',
  'tasks/cancel',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tools/call',
  'tools/list',
  'notifications/cancelled',
  'notifications/elicitation/complete',
  'notifications/initialized',
  'notifications/message',
  'notifications/progress',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
  'notifications/roots/list_changed',
  'notifications/subscriptions/acknowledged',
  'notifications/tasks/status',
  'notifications/tools/list_changed',
];

/** The params key naming what a method operates on (what the policy and `Mcp-Name` read). */
export const NAME_PARAM: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
};

/**
 * How a key or method is compared with the known ones: compatibility form (NFKC: `ｍ` is `m`),
 * then full case folding by way of upper case (`ſ` → `S` → `s`, Kelvin `K` → `k`), which covers
 * Go's `EqualFold` and more.
 */
export function fold(s: string): string {
  return s.normalize('NFKC').toUpperCase().toLowerCase();
}

const foldedTo = (names: readonly string[]) => new Map(names.map((n) => [fold(n), n]));
const ENVELOPE = foldedTo(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);
const PARAMS = foldedTo(['name', 'uri', 'arguments', '_meta', 'cursor']);
const METHODS = foldedTo(MCP_METHODS);

/** Method names: visible ASCII, no spaces (what every MCP method and vendor extension is). */
const METHOD_SYNTAX = /^[\x21-\x7e]+$/;

const LONE_SURROGATE = /\p{Cs}/u;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function refuse(id: JsonRpcId, code: number, message: string, reason: string): OAuthError {
  return jsonRpcError(400, { id, code, message }, `JSON-RPC refused: ${reason}`);
}

/** The id of a message, when it is one a response could carry. */
function readableId(m: unknown): JsonRpcId {
  if (!isObj(m) || !Object.hasOwn(m, 'id')) return null;
  const id = m.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

/** A key of `o` that is not exactly one of `known` but folds to one of them. */
function caseVariant(o: Json, known: ReadonlyMap<string, string>): string | undefined {
  for (const k of Object.keys(o)) {
    const canonical = known.get(fold(k));
    if (canonical !== undefined && canonical !== k) return k;
  }
  return undefined;
}

/** Parse and check one MCP POST body; throws a 400 JSON-RPC `OAuthError` for anything else. */
export function parseMcpBody(bytes: Uint8Array, opts: ParseOptions = {}): ParsedBody {
  const value = strictValue(bytes, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  if (!Array.isArray(value)) return { batch: false, messages: [checkMessage(value)] };
  if (value.length === 0) throw refuse(null, INVALID_REQUEST, 'Invalid Request', 'empty batch');
  const messages = value.map(checkMessage);
  const ids = new Set<string>();
  for (const m of messages) {
    if (m.kind !== 'request') continue;
    const key = `${typeof m.id}:${m.id}`;
    if (ids.has(key)) throw refuse(m.id, INVALID_REQUEST, 'Invalid Request', `id ${key} twice in a batch`);
    ids.add(key);
  }
  return { batch: true, messages };
}

/** The JSON value of the body, or the refusal naming what was wrong (with an id when readable). */
function strictValue(bytes: Uint8Array, maxDepth: number): unknown {
  let text = '';
  try {
    text = decodeStrictUtf8(bytes);
    return parseStrictJson(text, maxDepth);
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    throw problemError(e.problem, () => JSON.parse(text));
  }
}

function problemError(p: JsonProblem, value: () => unknown): OAuthError {
  if (p.kind === 'encoding' || p.kind === 'syntax') {
    return refuse(null, PARSE_ERROR, 'Parse error', `${p.kind}: ${p.detail}`);
  }
  const v = value();
  const message = Array.isArray(v) ? v[p.element ?? 0] : v;
  if (p.kind === 'depth') return refuse(readableId(message), INVALID_REQUEST, 'Invalid Request', 'too deep');
  // The id is ambiguous when it is the duplicated key itself.
  const envelope = p.depth === (Array.isArray(v) ? 2 : 1);
  const id = envelope && fold(p.key) === 'id' ? null : readableId(message);
  return refuse(id, PARSE_ERROR, 'Parse error', `duplicate key ${JSON.stringify(p.key)} at depth ${p.depth}`);
}

/** One message of the body, checked and classified. */
function checkMessage(m: unknown): McpMessage {
  const id = readableId(m);
  const invalid = (reason: string) => refuse(id, INVALID_REQUEST, 'Invalid Request', reason);
  if (!isObj(m)) throw invalid(Array.isArray(m) ? 'nested array' : `not an object: ${typeof m}`);
  const variant = caseVariant(m, ENVELOPE);
  if (variant !== undefined) throw invalid(`case-variant envelope key ${JSON.stringify(variant)}`);
  if (m.jsonrpc !== '2.0') throw invalid('jsonrpc is not "2.0"');
  return Object.hasOwn(m, 'method') ? checkCall(m, id, invalid) : checkResponse(m, invalid);
}

type Invalid = (reason: string) => OAuthError;

/** A request (with an id) or a notification. */
function checkCall(m: Json, id: JsonRpcId, invalid: Invalid): McpMessage {
  const method = m.method;
  if (typeof method !== 'string' || !METHOD_SYNTAX.test(method))
    throw invalid('method is not an ASCII token');
  const known = METHODS.get(fold(method));
  if (known !== undefined && known !== method)
    throw invalid(`method ${method} is a case variant of ${known}`);
  if (Object.hasOwn(m, 'result') || Object.hasOwn(m, 'error')) throw invalid('method with result or error');
  const hasId = Object.hasOwn(m, 'id');
  if (hasId && id === null) throw invalid('id is not a string or a safe integer');
  const params = m.params;
  if (Object.hasOwn(m, 'params') && !isObj(params)) throw invalid('params is not an object');
  checkParams(method, (params ?? {}) as Json, id, invalid); // absent params: no name either
  if (!hasId)
    return params === undefined
      ? { kind: 'notification', method }
      : { kind: 'notification', method, params: params as Json };
  const requestId = id as string | number;
  return params === undefined
    ? { kind: 'request', id: requestId, method }
    : { kind: 'request', id: requestId, method, params: params as Json };
}

function checkParams(method: string, params: Json, id: JsonRpcId, invalid: Invalid): void {
  const variant = caseVariant(params, PARAMS);
  if (variant !== undefined) throw invalid(`case-variant params key ${JSON.stringify(variant)}`);
  if (!Object.hasOwn(NAME_PARAM, method)) return; // not `constructor` and kin from the prototype
  const key = NAME_PARAM[method]!;
  const v = params[key];
  if (typeof v !== 'string' || LONE_SURROGATE.test(v)) {
    throw refuse(
      id,
      INVALID_PARAMS,
      'Invalid params',
      `${method} without a well-formed string params.${key}`,
    );
  }
}

/** A client's response to a server request: an id, and exactly one of result and error. */
function checkResponse(m: Json, invalid: Invalid): McpMessage {
  if (!Object.hasOwn(m, 'id')) throw invalid('neither method nor id');
  if (Object.hasOwn(m, 'params')) throw invalid('response with params');
  const hasResult = Object.hasOwn(m, 'result');
  if (hasResult === Object.hasOwn(m, 'error'))
    throw invalid('response needs exactly one of result and error');
  const id = readableId(m);
  if (hasResult) {
    if (id === null) throw invalid('result with an id that is not a string or a safe integer');
    return { kind: 'response', id };
  }
  if (id === null && m.id !== null) throw invalid('error with an id that is not a string, integer or null');
  const e = m.error;
  if (!isObj(e) || !Number.isInteger(e.code) || typeof e.message !== 'string') {
    throw invalid('error is not {code: integer, message: string}');
  }
  return { kind: 'response', id };
}
