/**
 * The audit line (issue 11 item 7): one JSON line per MCP message decision — who (subject,
 * client id), what (method, tool / prompt / resource name), allow or deny, and why. Never the
 * token, the arguments or any other part of the body; methods and names are cut at 200 chars.
 */
import type { Logger } from '../../shared/log.ts';
import type { Identity } from '../token.ts';
import type { BodyDecision, MessageDecision } from './policy.ts';

const MAX = 200;
const cut = (s: string | undefined) => (s !== undefined && s.length > MAX ? `${s.slice(0, MAX)}…` : s);

function reasonOf(d: MessageDecision, body: BodyDecision): string {
  if (d.refused === 'unlisted') return `${d.kind} not listed in the policy (unlisted: deny)`;
  if (d.refused === 'no-name') return `${d.kind} name missing or not a string`;
  if (d.missing.length) return `missing scopes: ${d.missing.join(' ')}`;
  if (!body.allowed) {
    return body.missing.length
      ? `body refused: missing scopes: ${body.missing.join(' ')}`
      : 'body refused: another message of the batch is refused';
  }
  return d.needs.length ? `scopes held: ${d.needs.join(' ')}` : 'no scope needed';
}

export function auditDecision(
  log: Logger,
  identity: Identity,
  body: BodyDecision,
  opts: { readonly requestId?: string; readonly batch: boolean },
): void {
  body.messages.forEach((d, i) => {
    log.info('mcp authorization', {
      requestId: opts.requestId,
      sub: identity.subject,
      clientId: identity.clientId,
      ...(opts.batch ? { batchIndex: i } : {}),
      method: d.method === undefined ? '(response)' : cut(d.method),
      ...(d.kind ? { [d.kind]: cut(d.name) ?? null } : {}),
      decision: body.allowed ? 'allow' : 'deny',
      reason: reasonOf(d, body),
    });
  });
}
