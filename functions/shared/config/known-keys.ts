/**
 * Unknown keys are refused: a typo (`deploy.proxy.reserved_concurency`, `discovery.consnet`) must
 * fail synth and cold start instead of silently leaving the default in place. One check for the
 * whole config: `parseConfig` runs it with the shape of the key tables (keys.ts), the CDK app with
 * the shape of the `deploy:` block (lib/deploy-options.ts). The error names the full key and the
 * closest known one.
 *
 * Keys of WSO2's Go proxy are honoured (original.ts) or, where that cannot be, refused with the
 * reason (`ORIGINAL_REFUSED`).
 */
import { isObject } from '../encoding.ts';
import { ConfigError } from './errors.ts';
import type { KeyDef, KeyTable } from './keys.ts';

/** What a key holds, as far as the unknown-key check looks. */
export type KeyShape =
  /** A scalar or a list: not looked into (its parser checks its type). */
  | 'value'
  /** A mapping whose keys are the user's (`path_mapping`, a static `response` document). */
  | 'free'
  /** A list of `{name, value}` entries (`addQueryParams` / `addBodyParams`). */
  | 'params'
  | KnownKeys;

/** The keys one mapping may have. */
export interface KnownKeys {
  readonly keys: Readonly<Record<string, KeyShape>>;
  /** The shape of every key of the mapping (a `<path>` segment of a table name). */
  readonly any?: KnownKeys;
}

/** The keys of one `addQueryParams` / `addBodyParams` entry. */
export const PARAM_ENTRY_KEYS = ['name', 'value', 'value_ssm_parameter', 'public'] as const;

/** Keys of the original refused with the reason and what to write instead (docs/migration.md). */
const ORIGINAL_REFUSED: Readonly<Record<string, string>> = {
  command:
    "is the original's name, before its first release, of the `stdio` block: rename it to `stdio` (`enabled`, `user_command`, `work_dir`, `args`, `env`); its `base_url`, `port`, `sse_path` and `message_path` have no equivalent (the local runner serves the stdio server at `paths`)",
  mode: "is set by the original's command line, not by its config (it replaced this value): choose the identity provider with `provider` (`asgardeo`, `oidc`), or run `npm start -- --demo` / `--asgardeo`, and remove it",
  auth_server_base_url:
    "is the original's early name of the identity provider's URL: write it as `default.base_url` (provider `oidc`) and remove it",
};
// (Its 1.x top-level `required_scopes` method → scope map is honoured: mcp-policy.ts.)

// ---------------------------------------------------------------------------------------------
// The closest known key.

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The candidate nearest to `name`, if near enough to be a typo of it: an edit distance of a third
 * of its length (at most 3), or `name` is the start of the candidate (`memory` for `memory_mb`).
 */
export function closestKey(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  const lower = name.toLowerCase();
  let best: { key: string; d: number } | undefined;
  for (const c of candidates) {
    const prefix = lower.length >= 4 && c.toLowerCase().startsWith(lower);
    const d = prefix ? Math.min(limit, editDistance(name, c)) : editDistance(name, c);
    if (d <= limit && (!best || d < best.d)) best = { key: c, d };
  }
  return best?.key;
}

/** ``invalid config: `a.b` is not a known key; did you mean `a.c`?``, else the keys known there. */
export function unknownKeyError(prefix: string, name: string, candidates: readonly string[]): ConfigError {
  const full = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const near = closestKey(name, candidates);
  const known = [...candidates].sort();
  const hint = near
    ? `did you mean \`${full(near)}\`?`
    : `the keys here are ${known.map((k) => `\`${k}\``).join(', ')}`;
  return new ConfigError(full(name), `is not a known key; ${hint}`);
}

// ---------------------------------------------------------------------------------------------
// The check.

/** Throws a `ConfigError` for the first key of `raw` that `shape` does not know. */
export function checkKnownKeys(raw: Record<string, unknown>, shape: KnownKeys, prefix = ''): void {
  for (const [k, v] of Object.entries(raw)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const s = Object.hasOwn(shape.keys, k) ? shape.keys[k] : shape.any;
    if (s === undefined) {
      if (!prefix && Object.hasOwn(ORIGINAL_REFUSED, k)) throw new ConfigError(key, ORIGINAL_REFUSED[k]!);
      throw unknownKeyError(prefix, k, Object.keys(shape.keys));
    }
    if (s === 'params' && Array.isArray(v)) {
      v.forEach((entry, i) => {
        if (isObject(entry)) checkKnownKeys(entry, PARAM_ENTRY, `${key}[${i}]`);
      });
    } else if (typeof s === 'object' && isObject(v)) checkKnownKeys(v, s, key);
  }
}

const PARAM_ENTRY: KnownKeys = { keys: Object.fromEntries(PARAM_ENTRY_KEYS.map((k) => [k, 'value'])) };

/** A section of plain keys and nested sections (the `deploy:` block's shape). */
export function section(...keys: (string | [string, KnownKeys])[]): KnownKeys {
  return { keys: Object.fromEntries(keys.map((k) => (typeof k === 'string' ? [k, 'value'] : k))) };
}

// ---------------------------------------------------------------------------------------------
// The shape of the key tables.

interface Node {
  keys: Record<string, KeyShape>;
  any?: Node;
}

function nodeAt(root: Node, path: readonly string[]): Node {
  let node = root;
  for (const seg of path) {
    if (/^<[a-z]+>$/.test(seg)) {
      node.any ??= { keys: {} };
      node = node.any;
      continue;
    }
    const next = node.keys[seg];
    if (typeof next === 'object') node = next as Node;
    else {
      const created: Node = { keys: {} };
      node.keys[seg] = created;
      node = created;
    }
  }
  return node;
}

const shapeOf = (d: KeyDef): KeyShape =>
  d.type === 'mapping' ? 'free' : d.type === 'params' ? 'params' : 'value';

/**
 * The shape of the tables: their keys, aliases, `<key>_ssm_parameter` for secrets, and `extra` top-level keys read by others (`deploy`, read by the CDK app).
 */
export function shapeOfTables(tables: readonly KeyTable[], extra: readonly string[] = []): KnownKeys {
  const root: Node = { keys: {} };
  for (const t of tables) {
    const path = t.name ? t.name.split('.') : [];
    const node = nodeAt(root, path);
    for (const [k, d] of Object.entries(t.keys)) {
      for (const n of [k, ...(d.aliases ?? [])]) node.keys[n] = shapeOf(d);
      if (d.type === 'secret') node.keys[`${k}_ssm_parameter`] = 'value';
    }
    for (const alias of t.aliases ?? []) nodeAt(root, path.slice(0, -1)).keys[alias] = node;
  }
  for (const k of extra) root.keys[k] = 'free';
  return root;
}
