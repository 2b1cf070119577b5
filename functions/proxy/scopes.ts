/**
 * Scope policy (pure). A request needs every scope of its operation; the 403 challenge lists all
 * of them at once (MCP 2026-07-28: one challenge with every scope needed).
 *
 * Scope hierarchies (MCP 2026-07-28: "servers MUST account for scope hierarchies"): a granted
 * scope covers a required one when they are equal, when the granted one implies it
 * (`scope_hierarchy.implies`, transitively), or when the required one extends a granted (or
 * implied) scope at a separator: with `:`, `mcp:tools` covers `mcp:tools:echo` but neither
 * `mcp:toolsx` nor `mcp:tool` → `mcp:tools:echo`. Nothing else: no case folding, no wildcards.
 */
import type { ScopeHierarchy } from '../shared/config/index.ts';

const FLAT: ScopeHierarchy = { separators: [], implies: new Map() };

/** The granted scopes with everything they imply (one set per request). */
export function effectiveScopes(granted: readonly string[], h: ScopeHierarchy = FLAT): Set<string> {
  const have = new Set(granted);
  if (h.implies.size) for (const g of granted) for (const s of h.implies.get(g) ?? []) have.add(s);
  return have;
}

/** Whether `have` (see `effectiveScopes`) covers `required`. */
export function covers(have: ReadonlySet<string>, required: string, h: ScopeHierarchy = FLAT): boolean {
  if (have.has(required)) return true;
  for (const sep of h.separators) {
    for (let i = required.indexOf(sep); i > 0; i = required.indexOf(sep, i + 1)) {
      if (have.has(required.slice(0, i))) return true;
    }
  }
  return false;
}

export function missingScopes(
  required: readonly string[],
  granted: readonly string[] | ReadonlySet<string>,
  h: ScopeHierarchy = FLAT,
): string[] {
  const have = granted instanceof Set ? granted : effectiveScopes(granted as readonly string[], h);
  return required.filter((s) => !covers(have, s, h));
}
