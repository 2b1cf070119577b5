/**
 * Body step of the proxy (issue 11): a POST to an MCP endpoint is read once, bounded
 * (`max_request_bytes`, else 413), parsed strictly (jsonrpc.ts) and checked against its
 * 2026-07-28 headers (transport-headers.ts) before any decision; the bytes that were parsed are
 * the bytes forwarded. Only `application/json` bodies are accepted (every MCP transport sends
 * JSON; anything else → 415), so nothing unparsed ever reaches the upstream. Other methods carry
 * no body: GET and HEAD cannot, and a body sent with DELETE (or any other method) is not forwarded.
 */
import { readBounded } from '../../shared/body.ts';
import type { Config } from '../../shared/config/index.ts';
import { jsonRpcError, tooLarge } from '../../shared/errors.ts';
import { mediaType } from '../../shared/http-bits.ts';
import { INVALID_REQUEST, parseMcpBody } from './jsonrpc.ts';
import { checkTransportHeaders } from './transport-headers.ts';
import type { ParsedBody } from './types.ts';

/** A POST body as parsed, and the very bytes that were parsed (what `forward` sends). */
export interface McpBody {
  readonly bytes: Uint8Array;
  readonly parsed: ParsedBody;
}

/** `application/json`, with no charset or charset UTF-8 (RFC 8259 §8.1: JSON is UTF-8). */
function isJson(contentType: string | null): boolean {
  if (mediaType(contentType) !== 'application/json') return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || /^utf-8$/i.test(charset);
}

/** The parsed body of a POST (else undefined: the request is forwarded without a body). */
export async function readMcpBody(cfg: Config, req: Request): Promise<McpBody | undefined> {
  if (req.method !== 'POST') return undefined;
  if (!isJson(req.headers.get('content-type'))) {
    throw jsonRpcError(
      415,
      { id: null, code: INVALID_REQUEST, message: 'Content-Type must be application/json' },
      `POST with content type ${req.headers.get('content-type')}`,
    );
  }
  // The bytes parsed must be the bytes the upstream reads: a body it would decompress first is
  // not one the proxy has seen (no MCP client compresses its requests).
  const encoding = req.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    throw jsonRpcError(
      415,
      { id: null, code: INVALID_REQUEST, message: 'Content-Encoding is not supported' },
      `POST with content encoding ${encoding}`,
    );
  }
  const limit = cfg.upstream.maxRequestBytes;
  const bytes = await readBounded(req, limit);
  if (bytes === undefined) throw tooLarge('invalid_request', limit);
  const parsed = parseMcpBody(bytes);
  checkTransportHeaders(req.headers, parsed);
  return { bytes, parsed };
}
