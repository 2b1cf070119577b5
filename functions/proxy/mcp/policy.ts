/**
 * The MCP scope policy (pure): which scopes each message of a parsed body needs — its method's,
 * and for `tools/call`, `prompts/get` and `resources/read|subscribe|unsubscribe` its tool's,
 * prompt's or resource's (config `mcp_policy`, or the original's `scopes_supported` map) — and
 * whether the token has them, with the scope hierarchy. A body is allowed only if every message
 * is: one refused element of a batch refuses the whole POST.
 *
 * Names are matched exactly, and a name that folds (names.ts) to a ruled one needs that rule's
 * scopes too, so a case or Unicode variant never needs fewer scopes. `unlisted: deny` allows
 * only names ruled exactly. The decision never depends on `MCP-Protocol-Version`.
 */
import type { Config, McpPolicyConfig, ScopeHierarchy, ScopeRules } from '../../shared/config/index.ts';
import { NAMED_METHODS } from '../../shared/config/mcp-policy.ts';
import { covers, effectiveScopes } from '../scopes.ts';
import { fold, foldUri } from './names.ts';
import type {
  JsonRpcId,
  ListingFilter,
  ListMethod,
  McpMessage,
  OperationKind,
  ParsedBody,
  PolicyView,
} from './types.ts';

/** Rules by exact name, and the union of the rules of every name with the same fold. */
interface Rules {
  readonly exact: ScopeRules;
  readonly folded: ReadonlyMap<string, readonly string[]>;
  readonly foldOf: (name: string) => string;
}

export interface Policy {
  /** `token.required_scopes`: every request needs them. */
  readonly global: readonly string[];
  readonly methods: Rules;
  readonly names: Readonly<Record<OperationKind, Rules>>;
  readonly unlisted: 'allow' | 'deny';
  readonly hierarchy: ScopeHierarchy;
  /** Whether a listing can lose entries (any rule for names or their methods, or `unlisted: deny`). */
  readonly filtersListings: boolean;
}

const KIND: Readonly<Record<'tools' | 'prompts' | 'resources', OperationKind>> = {
  tools: 'tool',
  prompts: 'prompt',
  resources: 'resource',
};
/** The method that uses a tool / prompt / resource (what a listing entry is offered for). */
const USE: Readonly<Record<OperationKind, string>> = {
  tool: 'tools/call',
  prompt: 'prompts/get',
  resource: 'resources/read',
};
/** Folded method → the kind of name its `params` carry, and where. */
const COMPLETION = fold('completion/complete');
const NAMED = new Map(Object.entries(NAMED_METHODS).map(([m, k]) => [fold(m), KIND[k]]));
const LISTS: readonly ListMethod[] = [
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
];
const LIST_BY_FOLD = new Map(LISTS.map((m) => [fold(m), m]));

function compileRules(exact: ScopeRules, foldOf: (name: string) => string): Rules {
  const folded = new Map<string, string[]>();
  for (const [name, scopes] of exact) {
    const k = foldOf(name);
    folded.set(k, [...new Set([...(folded.get(k) ?? []), ...scopes])]);
  }
  return { exact, folded, foldOf };
}

/** The policy of a config, compiled once per instance. */
export function compilePolicy(cfg: Config): Policy {
  const p: McpPolicyConfig = cfg.mcpPolicy;
  const names = {
    tool: compileRules(p.tools, fold),
    prompt: compileRules(p.prompts, fold),
    resource: compileRules(p.resources, foldUri),
  };
  const methods = compileRules(p.methods, fold);
  const useRuled = Object.values(USE).some((m) => methods.folded.has(fold(m)));
  return {
    global: cfg.token.requiredScopes,
    methods,
    names,
    unlisted: p.unlisted,
    hierarchy: p.hierarchy,
    filtersListings: p.unlisted === 'deny' || useRuled || Object.values(names).some((r) => r.exact.size > 0),
  };
}

const scopesOf = (r: Rules, name: string): readonly string[] => r.folded.get(r.foldOf(name)) ?? [];

/** What one message needs and whether it is refused; `name` only for the named methods. */
export interface MessageDecision {
  readonly method?: string;
  readonly kind?: OperationKind;
  readonly name?: string;
  /** Scopes of its method and name (not the global ones). */
  readonly needs: readonly string[];
  readonly missing: readonly string[];
  /**
   * `unlisted`: no rule names it exactly and `unlisted: deny`; `no-name`: a named method without
   * a string name. Either refuses the body whatever the scopes.
   */
  readonly refused?: 'unlisted' | 'no-name';
}

export interface BodyDecision {
  readonly allowed: boolean;
  /** Every scope the body needs (global first, then per message, each once): the challenge. */
  readonly needed: readonly string[];
  readonly missing: readonly string[];
  readonly messages: readonly MessageDecision[];
}

/** The kind and name a message names, if its method is one of the named ones (by fold). */
function nameOf(m: McpMessage, folded: string): { kind: OperationKind; name: unknown } | undefined {
  if (m.kind === 'response') return undefined;
  // Argument completions of a prompt or a resource (template) are that prompt's or resource's:
  // `completion/complete` names it in `params.ref` (`ref/prompt` by name, `ref/resource` by URI).
  if (folded === COMPLETION) {
    const ref = m.params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    if (ref?.type === 'ref/resource') return { kind: 'resource', name: ref.uri };
    return { kind: 'prompt', name: ref?.type === 'ref/prompt' ? ref.name : undefined };
  }
  const kind = NAMED.get(folded);
  if (!kind) return undefined;
  return { kind, name: m.params?.[kind === 'resource' ? 'uri' : 'name'] };
}

function decideMessage(p: Policy, m: McpMessage, have: ReadonlySet<string>): MessageDecision {
  if (m.kind === 'response') return { needs: [], missing: [] };
  const folded = fold(m.method);
  const named = nameOf(m, folded);
  const needs = new Set(p.methods.folded.get(folded) ?? []);
  let refused: MessageDecision['refused'];
  let name: string | undefined;
  if (named) {
    const rules = p.names[named.kind];
    // Without a string name no rule can match: refused where rules of its kind exist (an upstream
    // could coerce `["echo"]` to `echo`), else irrelevant to the policy (the upstream answers).
    if (typeof named.name !== 'string') {
      if (rules.exact.size || p.unlisted === 'deny') refused = 'no-name';
    } else {
      name = named.name;
      for (const s of scopesOf(rules, name)) needs.add(s);
      if (p.unlisted === 'deny' && !rules.exact.has(name)) refused = 'unlisted';
    }
  }
  const list = [...needs];
  const missing = list.filter((s) => !covers(have, s, p.hierarchy));
  return { method: m.method, kind: named?.kind, name, needs: list, missing, refused };
}

/** The decision for a whole body with these granted scopes. */
export function decideBody(p: Policy, body: ParsedBody, granted: readonly string[]): BodyDecision {
  const have = effectiveScopes(granted, p.hierarchy);
  const messages = body.messages.map((m) => decideMessage(p, m, have));
  const needed = [...new Set([...p.global, ...messages.flatMap((d) => d.needs)])];
  const missing = needed.filter((s) => !covers(have, s, p.hierarchy));
  return { allowed: !missing.length && !messages.some((d) => d.refused), needed, missing, messages };
}

/** What this token may use, for filtering listings (the global scopes are already held). */
export function policyView(p: Policy, granted: readonly string[]): PolicyView {
  const have = effectiveScopes(granted, p.hierarchy);
  return {
    allows(kind, name) {
      const rules = p.names[kind];
      if (p.unlisted === 'deny' && !rules.exact.has(name)) return false;
      const needs = [...scopesOf(p.methods, USE[kind]), ...scopesOf(rules, name)];
      return needs.every((s) => covers(have, s, p.hierarchy));
    },
  };
}

/**
 * The listing filter of one request: which response ids answer a listing request (by the fold
 * of the method, and by the id's text, so an upstream that echoes `1` as `"1"` is still
 * filtered); undefined when the policy cannot hide anything or the body lists nothing.
 */
export function listingFilter(
  p: Policy,
  body: ParsedBody,
  granted: readonly string[],
): ListingFilter | undefined {
  if (!p.filtersListings) return undefined;
  const byId = new Map<string, ListMethod>();
  for (const m of body.messages) {
    if (m.kind !== 'request') continue;
    const list = LIST_BY_FOLD.get(fold(m.method));
    if (list) byId.set(String(m.id), list);
  }
  if (!byId.size) return undefined;
  const view = policyView(p, granted);
  return { methodOf: (id: JsonRpcId) => (id === null ? undefined : byId.get(String(id))), view };
}
