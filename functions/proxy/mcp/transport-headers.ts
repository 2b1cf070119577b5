/**
 * 2026-07-28 request metadata (pure; Streamable HTTP "Request Metadata", "Server Validation"):
 * `Mcp-Method` mirrors `method`, `Mcp-Name` mirrors `params.name` (`tools/call`, `prompts/get`)
 * or `params.uri` (`resources/read`), plain or as `=?base64?…?=`, and `MCP-Protocol-Version`
 * mirrors `params._meta["io.modelcontextprotocol/protocolVersion"]`. A header that disagrees
 * with the parsed body, has no body value to mirror, or is malformed → 400, JSON-RPC -32020
 * (`HeaderMismatch`), so an intermediary that routes or rate-limits on the header and the upstream
 * that executes the body cannot be told different things.
 *
 * The headers are checked whenever they are present, whatever the protocol version; a request
 * that says 2026-07-28 or later must also carry them (`Mcp-Method` on requests, `Mcp-Name` where
 * the method has a name). The proxy's own decisions always come from the parsed body, never from
 * these headers, so a missing or older `MCP-Protocol-Version` cannot weaken anything. Unrecognised
 * `Mcp-Param-*` headers are forwarded unchanged (the proxy does not know the tools' schemas).
 */
import { type JsonRpcId, jsonRpcError, type OAuthError } from '../../shared/errors.ts';
import type { McpMessage, ParsedBody } from './types.ts';

export const HEADER_MISMATCH = -32020;

/** The first protocol version whose POSTs carry (and must carry) the mirrored headers. */
export const HEADERS_SINCE = '2026-07-28';

const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/** RFC 9110 §5.5 field value characters the spec allows unencoded: visible ASCII, space, tab. */
const PLAIN_VALUE = /^[\t\x20-\x7e]*$/;
const SENTINEL = /^=\?base64\?(.*)\?=$/s;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function mismatch(id: JsonRpcId, reason: string): OAuthError {
  return jsonRpcError(
    400,
    { id, code: HEADER_MISMATCH, message: 'Header mismatch: the MCP request headers do not match the body' },
    `header mismatch: ${reason}`,
  );
}

/** A header value as the body would spell it: plain ASCII, or the UTF-8 of a base64 sentinel. */
export function decodeHeaderValue(value: string): string | undefined {
  if (!PLAIN_VALUE.test(value)) return undefined;
  const m = SENTINEL.exec(value);
  if (!m) return value;
  const b64 = m[1]!;
  if (!BASE64.test(b64)) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.toString('base64') !== b64) return undefined; // non-canonical padding bits
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The methods whose `Mcp-Name` mirrors a params key (the spec's table; no others). */
const MIRRORED: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** What `Mcp-Name` mirrors for this message, if its method has one (a string: jsonrpc.ts checked). */
function nameOf(m: McpMessage): string | undefined {
  if (m.kind === 'response' || !Object.hasOwn(MIRRORED, m.method)) return undefined;
  return m.params?.[MIRRORED[m.method]!] as string | undefined;
}

function metaVersion(m: McpMessage): unknown {
  if (m.kind === 'response') return undefined;
  const meta = m.params?._meta;
  return typeof meta === 'object' && meta !== null
    ? (meta as Record<string, unknown>)[PROTOCOL_VERSION_META]
    : undefined;
}

/** One header against its body value: absent is fine unless required; present must agree. */
function agree(
  header: string | null,
  body: string | undefined,
  required: boolean,
  what: string,
): string | undefined {
  if (header === null) return required && body !== undefined ? `${what} missing` : undefined;
  const decoded = decodeHeaderValue(header);
  if (decoded === undefined) return `${what} malformed`;
  if (body === undefined) return `${what} without a body value to mirror`;
  return decoded === body ? undefined : `${what} ${JSON.stringify(decoded)} is not ${JSON.stringify(body)}`;
}

/** Throws -32020 unless the mirrored headers agree with the parsed body. */
export function checkTransportHeaders(headers: Headers, body: ParsedBody): void {
  const method = headers.get('mcp-method');
  const name = headers.get('mcp-name');
  const version = headers.get('mcp-protocol-version');
  const required = version !== null && version >= HEADERS_SINCE;
  for (const m of body.messages) {
    const id = m.kind === 'notification' ? null : m.id;
    const meta = metaVersion(m);
    if (meta !== undefined && meta !== version)
      throw mismatch(id, `MCP-Protocol-Version is not the body's ${String(meta)}`);
  }
  if (body.batch) {
    if (method !== null || name !== null) throw mismatch(null, 'Mcp-Method or Mcp-Name on a batch');
    if (required) throw mismatch(null, `a batch cannot carry the headers ${HEADERS_SINCE} requires`);
    return;
  }
  const m = body.messages[0]!;
  const id = m.kind === 'notification' ? null : m.id;
  const bodyMethod = m.kind === 'response' ? undefined : m.method;
  const problem =
    agree(method, bodyMethod, required && m.kind === 'request', 'Mcp-Method') ??
    agree(name, nameOf(m), required && m.kind === 'request', 'Mcp-Name');
  if (problem !== undefined) throw mismatch(id, problem);
}
