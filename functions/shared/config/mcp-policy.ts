/**
 * The MCP scope policy (issue 11): which scopes each JSON-RPC method needs, and each tool, prompt
 * and resource, plus the scope hierarchy. Three spellings, one representation, parsed once:
 * - ours, `mcp_policy:` (`methods`, `tools`, `prompts`, `resources`, `unlisted`, `scope_hierarchy`);
 * - the original Go proxy's map inside `protected_resource_metadata.scopes_supported`
 *   (`- initialize: "mcp_init"`, `- tools/call: [{echo_tool: "mcp_echo_tool"}]`), beside flat scopes;
 * - the original's older top-level `required_scopes` (method → scope).
 * Where two spellings name the same method or name, a request needs the scopes of both.
 */
import { isObject } from '../encoding.ts';
import { ConfigError } from './errors.ts';
import { open, Section, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const MCP_POLICY = table('mcp_policy', {
  methods: { type: 'mapping' },
  tools: { type: 'mapping' },
  prompts: { type: 'mapping' },
  resources: { type: 'mapping' },
  unlisted: { type: 'string', default: 'allow', values: ['allow', 'deny'] },
});

export const SCOPE_HIERARCHY = table('mcp_policy.scope_hierarchy', {
  separators: { type: 'list', default: [':'] },
  implies: { type: 'mapping' },
});

/** The original's older releases: `required_scopes: {initialize: "mcp_init"}`. */
export const ORIGINAL_REQUIRED_SCOPES = table('', { required_scopes: { type: 'mapping' } });

/** Name → the scopes it needs (all of them). A Map: names are the user's (`__proto__` is a name). */
export type ScopeRules = ReadonlyMap<string, readonly string[]>;

export interface ScopeHierarchy {
  /** A granted `a:b` covers `a:b:c` when `:` is listed (segment boundaries only); empty = off. */
  readonly separators: readonly string[];
  /** Granted scope → every scope it implies (transitively closed at parse). */
  readonly implies: ScopeRules;
}

export interface McpPolicyConfig {
  /** JSON-RPC method (exact) → scopes. */
  readonly methods: ScopeRules;
  /** `tools/call` by `params.name`. */
  readonly tools: ScopeRules;
  /** `prompts/get` by `params.name`. */
  readonly prompts: ScopeRules;
  /** `resources/read`, `resources/subscribe`, `resources/unsubscribe` by `params.uri`. */
  readonly resources: ScopeRules;
  /** A tool / prompt / resource no rule names: allowed (the original's behaviour) or refused. */
  readonly unlisted: 'allow' | 'deny';
  readonly hierarchy: ScopeHierarchy;
}

/** The rules of the original's `scopes_supported` map, as they map onto ours. */
export interface OriginalScopeMap {
  readonly methods: ScopeRules;
  readonly tools: ScopeRules;
  readonly prompts: ScopeRules;
  readonly resources: ScopeRules;
}

// RFC 6749 §3.3 scope-token.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** A scope value: one string (space-separated scopes allowed) or a list of them. */
export function scopeList(key: string, v: unknown): string[] {
  const items = typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v;
  if (!Array.isArray(items) || !items.length || !items.every((s) => typeof s === 'string')) {
    throw new ConfigError(key, `must be a scope or a list of scopes (got ${JSON.stringify(v)})`);
  }
  const out = items.flatMap((s: string) => s.split(/\s+/).filter(Boolean));
  const bad = out.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined || !out.length) {
    throw new ConfigError(key, `must list scope tokens (RFC 6749 §3.3; got ${JSON.stringify(bad ?? v)})`);
  }
  return [...new Set(out)];
}

/** A mapping name → scope(s) (our `tools:` etc.); the error names `<key>.<name>`. */
function rulesOf(key: string, raw: Record<string, unknown> | undefined): Map<string, readonly string[]> {
  const m = new Map<string, readonly string[]>();
  for (const [name, v] of Object.entries(raw ?? {})) m.set(name, scopeList(`${key}.${name}`, v));
  return m;
}

/** The kind of name a method's per-name rules are about (tools/call → tools, ...). */
export const NAMED_METHODS: Readonly<Record<string, 'tools' | 'prompts' | 'resources'>> = {
  'tools/call': 'tools',
  'prompts/get': 'prompts',
  'resources/read': 'resources',
  'resources/subscribe': 'resources',
  'resources/unsubscribe': 'resources',
};

function add(into: Map<string, readonly string[]>, name: string, scopes: readonly string[]): void {
  into.set(name, [...new Set([...(into.get(name) ?? []), ...scopes])]);
}

function mergeRules(...all: (ScopeRules | undefined)[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const rules of all) for (const [k, v] of rules ?? []) add(out, k, v);
  return out;
}

/**
 * One entry of the original's per-name list (`- echo_tool: "mcp_echo_tool"`) into `into`; a
 * plain string in that list is read as a scope of the method itself (the original ignored it
 * when deciding: here it is required, never dropped).
 */
function originalNamed(key: string, item: unknown, method: Map<string, readonly string[]>, name: string) {
  const into = new Map<string, readonly string[]>();
  if (typeof item === 'string') add(method, name, scopeList(key, item));
  else if (isObject(item)) {
    for (const [n, v] of Object.entries(item)) {
      if (into.has(n)) throw new ConfigError(`${key}.${n}`, 'is listed twice');
      into.set(n, scopeList(`${key}.${n}`, v));
    }
  } else throw new ConfigError(key, `must be \`name: scope\` or a scope (got ${JSON.stringify(item)})`);
  return into;
}

type Named = { tools: Map<string, readonly string[]>; prompts: Map<string, readonly string[]> } & {
  resources: Map<string, readonly string[]>;
};

/** One `method: value` of the original's map. */
function originalMethod(
  key: string,
  method: string,
  v: unknown,
  methods: Map<string, readonly string[]>,
  named: Named,
) {
  if (!Array.isArray(v)) {
    add(methods, method, scopeList(key, v));
    return;
  }
  const kind = Object.hasOwn(NAMED_METHODS, method) ? NAMED_METHODS[method]! : undefined;
  v.forEach((item, i) => {
    const names = originalNamed(`${key}[${i}]`, item, methods, method);
    if (names.size && !kind) {
      throw new ConfigError(
        `${key}[${i}]`,
        `names ${[...names.keys()].join(', ')}, but only ${Object.keys(NAMED_METHODS).join(', ')} have per-name scopes`,
      );
    }
    for (const [n, s] of names) {
      if (named[kind!].has(n) && !method.startsWith('resources/')) {
        throw new ConfigError(`${key}[${i}].${n}`, 'is listed twice');
      }
      add(named[kind!], n, s);
    }
  });
}

/**
 * `protected_resource_metadata.scopes_supported`: flat scopes, or the original's map entries
 * (`- method: scope | [name: scope]`), in any mix. Returns every scope named (the PRM's flat
 * list, in order) and the map's rules.
 */
export function parseScopesSupported(key: string, v: unknown): { flat: string[]; map: OriginalScopeMap } {
  const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(items))
    throw new ConfigError(key, 'must be a list of scopes or `method: scope` entries');
  const flat: string[] = [];
  const methods = new Map<string, readonly string[]>();
  const named: Named = { tools: new Map(), prompts: new Map(), resources: new Map() };
  items.forEach((item, i) => {
    if (typeof item === 'string') flat.push(...scopeList(`${key}[${i}]`, item));
    else if (isObject(item)) {
      for (const [method, mv] of Object.entries(item)) {
        if (methods.has(method)) throw new ConfigError(`${key}[${i}].${method}`, 'is listed twice');
        originalMethod(`${key}[${i}].${method}`, method, mv, methods, named);
      }
    } else
      throw new ConfigError(
        `${key}[${i}]`,
        `must be a scope or \`method: scope\` (got ${JSON.stringify(item)})`,
      );
  });
  const map = { methods, ...named };
  for (const rules of Object.values(map)) for (const s of rules.values()) flat.push(...s);
  return { flat: [...new Set(flat)], map };
}

/** `implies`, closed transitively (a cycle just means the scopes imply each other). */
function closeImplies(key: string, raw: Record<string, unknown> | undefined): ScopeRules {
  const direct = rulesOf(key, raw);
  for (const k of direct.keys()) {
    if (!SCOPE_TOKEN.test(k)) throw new ConfigError(`${key}.${k}`, 'is not a scope token (RFC 6749 §3.3)');
  }
  const closed = new Map<string, readonly string[]>();
  for (const start of direct.keys()) {
    const seen = new Set<string>();
    const todo = [...direct.get(start)!];
    while (todo.length) {
      const s = todo.pop()!;
      if (seen.has(s) || s === start) continue;
      seen.add(s);
      todo.push(...(direct.get(s) ?? []));
    }
    closed.set(start, [...seen]);
  }
  return closed;
}

function parseHierarchy(r: ConfigReader): ScopeHierarchy {
  const s = new Section(r.obj('mcp_policy').obj('scope_hierarchy'), SCOPE_HIERARCHY.keys);
  return { separators: s.list('separators'), implies: closeImplies(s.key('implies'), s.mapping('implies')) };
}

/** The policy of all three spellings; `original` is the PRM map (`parseScopesSupported`). */
export function parseMcpPolicy(r: ConfigReader, original?: OriginalScopeMap): McpPolicyConfig {
  const s = open(r, MCP_POLICY);
  const legacy = open(r, ORIGINAL_REQUIRED_SCOPES);
  if (legacy.has('required_scopes') && !isObject(legacy.r.value('required_scopes'))) {
    throw new ConfigError(
      'required_scopes',
      "is the original's per-method scope map (`method: scope`); scopes every request needs go in `token.required_scopes`",
    );
  }
  return {
    methods: mergeRules(
      rulesOf(s.key('methods'), s.mapping('methods')),
      rulesOf('required_scopes', legacy.mapping('required_scopes')),
      original?.methods,
    ),
    tools: mergeRules(rulesOf(s.key('tools'), s.mapping('tools')), original?.tools),
    prompts: mergeRules(rulesOf(s.key('prompts'), s.mapping('prompts')), original?.prompts),
    resources: mergeRules(rulesOf(s.key('resources'), s.mapping('resources')), original?.resources),
    unlisted: s.str('unlisted'),
    hierarchy: parseHierarchy(r),
  };
}
