/**
 * Authorize step: the token must carry every scope the request needs — `token.required_scopes`
 * and, for an MCP body, those of its methods, tools, prompts and resources (mcp/policy.ts) —
 * with the scope hierarchy (scopes.ts); else 403 `insufficient_scope` with one challenge
 * listing all of them.
 */
import type { ScopeHierarchy } from '../../shared/config/index.ts';
import { forbidden, jsonRpcError, OAuthError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import { auditDecision } from '../mcp/audit.ts';
import { decideBody, type Policy } from '../mcp/policy.ts';
import type { ParsedBody } from '../mcp/types.ts';
import { missingScopes } from '../scopes.ts';
import type { Identity } from '../token.ts';

/** 403 `insufficient_scope`: the challenge names every scope the operation needs, held or not. */
export function insufficientScope(
  needed: readonly string[],
  missing: readonly string[],
  resourceMetadata: string,
): OAuthError {
  return new OAuthError({
    status: 403,
    code: 'insufficient_scope',
    description: 'insufficient scope',
    reason: `missing scopes: ${missing.join(' ')}`,
    challenge: { resourceMetadata, scope: needed.join(' '), includeError: true },
  });
}

export function requireScopes(
  required: readonly string[],
  identity: Identity,
  resourceMetadata: string,
  hierarchy?: ScopeHierarchy,
): void {
  const missing = missingScopes(required, identity.scopes, hierarchy);
  if (missing.length) throw insufficientScope(required, missing, resourceMetadata);
}

/**
 * An MCP body (mcp/policy.ts): allowed only if every message is, with the global scopes in the
 * same challenge. One audit line per message either way. A named method without a string name
 * is a 400 (JSON-RPC -32602); a name `unlisted: deny` refuses is a 403 `forbidden` (no scope
 * would help, so no challenge to re-authorize with); missing scopes are a 403 challenge.
 */
export function authorizeBody(
  policy: Policy,
  body: ParsedBody,
  identity: Identity,
  ctx: { readonly resourceMetadata: string; readonly log: Logger; readonly requestId?: string },
): void {
  const d = decideBody(policy, body, identity.scopes);
  auditDecision(ctx.log, identity, d, { requestId: ctx.requestId, batch: body.batch });
  if (d.allowed) return;
  const noName = d.messages.findIndex((m) => m.refused === 'no-name');
  if (noName >= 0) {
    const m = body.messages[noName]!;
    const id = !body.batch && m.kind !== 'response' && 'id' in m ? m.id : null;
    const what = d.messages[noName]!.kind === 'resource' ? 'uri' : 'name';
    const message = `Invalid params: ${what} must be a string`;
    throw jsonRpcError(
      400,
      { id, code: -32602, message },
      `${m.kind === 'response' ? '' : m.method} without a string ${what}`,
    );
  }
  const unlisted = d.messages.find((m) => m.refused === 'unlisted');
  if (unlisted) {
    throw forbidden(
      `this ${unlisted.kind} is not available through this proxy`,
      `${unlisted.kind} ${JSON.stringify(unlisted.name?.slice(0, 200))} not listed (unlisted: deny)`,
    );
  }
  throw insufficientScope(d.needed, d.missing, ctx.resourceMetadata);
}
