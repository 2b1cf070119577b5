/**
 * Scope policy (pure). A request needs every configured scope; the 403 challenge lists all of
 * them at once (MCP 2026-07-28: one challenge with every scope needed).
 */
export function missingScopes(required: readonly string[], granted: readonly string[]): string[] {
  const have = new Set(granted);
  return required.filter((s) => !have.has(s));
}
