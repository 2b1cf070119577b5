/**
 * The upstream failed before it answered: our answer, as a JSON-RPC error (the client spoke
 * JSON-RPC to the MCP endpoint, so it gets a JSON-RPC error back, through the one errorResponse):
 * 504 when the upstream did not answer in time, else 502. The cause stays in the log (`reason`).
 *
 * Codes from the JSON-RPC 2.0 §5.1 range for implementation-defined server errors: -32000 for an
 * unreachable upstream, -32001 for a timeout (the MCP SDKs' `RequestTimeout`).
 */
import { type JsonRpcId, jsonRpcError, type OAuthError } from '../../shared/errors.ts';
import type { ParsedBody } from '../mcp/types.ts';
import { isTimeout } from './upstream.ts';

export const UPSTREAM_UNAVAILABLE = -32000;
export const UPSTREAM_TIMEOUT = -32001;

/**
 * The id a JSON-RPC error for this request carries (from the parsed body, mcp/jsonrpc.ts): a
 * single request's `id`; null for anything else — a GET or DELETE (no body), a notification or a
 * response, and a batch (the HTTP request failed as a whole and is answered with one error
 * object; JSON-RPC 2.0 §5 uses a null id where no single request's id applies).
 */
export function requestIdOf(parsed: ParsedBody | undefined): JsonRpcId {
  const only = parsed && !parsed.batch && parsed.messages.length === 1 ? parsed.messages[0] : undefined;
  return only?.kind === 'request' ? only.id : null;
}

export function upstreamError(e: unknown, id: JsonRpcId): OAuthError {
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (isTimeout(e)) {
    return jsonRpcError(
      504,
      { id, code: UPSTREAM_TIMEOUT, message: 'upstream timed out' },
      reason,
      'gateway_timeout',
    );
  }
  return jsonRpcError(
    502,
    { id, code: UPSTREAM_UNAVAILABLE, message: 'upstream unavailable' },
    reason,
    'bad_gateway',
  );
}
