/**
 * `npx tsx bench/policy.ts` — what the MCP scope policy's decision costs per request (issue 11):
 * `decideBody` (+ the audit line's fields, logged to a sink that drops them) on a 10 KB
 * `tools/call`, as parsed, with a policy of 100 tool rules, the original's map and the scope
 * hierarchy. Median over rounds of 1000 decisions; then the strict parse of the same bytes plus
 * the decision (the "parse + policy" figure), against a plain `JSON.parse` in the same run.
 */
import { performance } from 'node:perf_hooks';
import { authorizeBody } from '../functions/proxy/auth/authorize.ts';
import { parseMcpBody } from '../functions/proxy/mcp/jsonrpc.ts';
import { compilePolicy } from '../functions/proxy/mcp/policy.ts';
import type { ParsedBody } from '../functions/proxy/mcp/types.ts';
import { parseConfig } from '../functions/shared/config/index.ts';
import { createLogger } from '../functions/shared/log.ts';

const tools = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`tool_${i}`, `mcp:tools:t${i}`]));
const policy = compilePolicy(
  parseConfig({
    base_url: 'http://localhost:8000',
    token: { required_scopes: ['mcp'] },
    protected_resource_metadata: {
      scopes_supported: [{ initialize: 'mcp_init' }, { 'tools/call': [{ echo_tool: 'mcp_echo_tool' }] }],
    },
    mcp_policy: { tools, scope_hierarchy: { implies: { admin: ['mcp:tools'] } } },
  }),
);
const args = { text: 'x'.repeat(10 * 1024) };
const single: ParsedBody = {
  batch: false,
  messages: [{ kind: 'request', id: 1, method: 'tools/call', params: { name: 'tool_42', arguments: args } }],
};
const batch: ParsedBody = {
  batch: true,
  messages: Array.from({ length: 10 }, (_, i) => ({
    kind: 'request' as const,
    id: i,
    method: 'tools/call',
    params: { name: `tool_${i}`, arguments: { text: 'x'.repeat(1024) } },
  })),
};
const identity = {
  subject: 'alice',
  clientId: 'c',
  scopes: ['mcp', 'mcp:tools'],
  issuer: 'https://i',
  claims: {},
};
const ctx = { resourceMetadata: 'https://p/prm', log: createLogger('bench', 'info', () => {}) };
const quiet = { ...ctx, log: createLogger('bench', 'error', () => {}) };

function median(body: ParsedBody, c: typeof ctx, rounds = 41, n = 1000): number {
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) authorizeBody(policy, body, identity, c);
    per.push(((performance.now() - t0) / n) * 1000);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

/** Reference on the same machine: a plain `JSON.parse` of the same 10 KB body. */
function parseMedian(rounds = 41, n = 1000): number {
  const text = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'tool_42', arguments: args },
  });
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) JSON.parse(text);
    per.push(((performance.now() - t0) / n) * 1000);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

/** Strict parse of the 10 KB body's bytes, then the decision on what it parsed. */
function parseAndDecide(c: typeof ctx, rounds = 41, n = 1000): number {
  const bytes = new TextEncoder().encode(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'tool_42', arguments: args },
    }),
  );
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) authorizeBody(policy, parseMcpBody(bytes), identity, c);
    per.push(((performance.now() - t0) / n) * 1000);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

median(single, ctx, 5); // warm-up
const rows = [
  ['reference: JSON.parse of the 10 KB body', parseMedian()],
  ['10 KB tools/call, audit line serialised', median(single, ctx)],
  ['10 KB tools/call, audit line filtered by level', median(single, quiet)],
  ['batch of 10 tools/call (10 KB), audit lines serialised', median(batch, ctx)],
  ['strict parse + decision of the 10 KB tools/call, audit line serialised', parseAndDecide(ctx)],
] as const;
for (const [what, us] of rows) process.stdout.write(`${what}: median ${us.toFixed(2)} µs per request\n`);
