/**
 * The MCP layer's shared vocabulary (issue 11): what the strict JSON-RPC parser (jsonrpc.ts)
 * hands to the policy (policy.ts), the listing filter (listing.ts) and the audit line. Pure types.
 */
import type { JsonRpcId } from '../../shared/errors.ts';

export type { JsonRpcId };

/** One JSON-RPC 2.0 message of a POST body, checked (parser) before any decision. */
export type McpMessage =
  | {
      readonly kind: 'request';
      readonly id: string | number;
      readonly method: string;
      readonly params?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'notification';
      readonly method: string;
      readonly params?: Readonly<Record<string, unknown>>;
    }
  | {
      /** A client's answer to a server request (sampling, elicitation, roots). */
      readonly kind: 'response';
      readonly id: JsonRpcId;
    };

/** A whole POST body: one message, or a (2025-03-26) batch of them. */
export interface ParsedBody {
  readonly batch: boolean;
  readonly messages: readonly McpMessage[];
}

/** What a tool, prompt or resource name in a message is. */
export type OperationKind = 'tool' | 'prompt' | 'resource';

/** The listing methods whose results are filtered to what the token may use. */
export type ListMethod = 'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list';

/** What one identity may use, for filtering listings (built by the policy for one request). */
export interface PolicyView {
  /** Whether this token may use the tool / prompt / resource (URI or URI template). */
  allows(kind: OperationKind, name: string): boolean;
}

/** What the response step needs to filter listings of one request. */
export interface ListingFilter {
  /** The listing method a response id answers, if the request was one. */
  methodOf(id: JsonRpcId): ListMethod | undefined;
  readonly view: PolicyView;
}
