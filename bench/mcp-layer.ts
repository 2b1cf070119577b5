/**
 * What the MCP layer costs per request (issue 11): the strict parse of a 10 KB `tools/call`
 * (mcp/jsonrpc.ts), its header agreement (mcp/transport-headers.ts) and the scope-policy decision
 * with its audit line (auth/authorize.ts, against a policy of 100 tool rules, the original's map and
 * a scope hierarchy), against a baseline measured in the same, interleaved rounds: UTF-8 decoding
 * plus a plain `JSON.parse` of the same bytes, which any proxy reading the body pays. Medians of
 * many rounds; on a shared machine read the ratio, not the microseconds.
 *
 *   npx tsx bench/mcp-layer.ts   (also part of `npm run bench`)
 */
import { authorizeBody } from '../functions/proxy/auth/authorize.ts';
import { parseMcpBody } from '../functions/proxy/mcp/jsonrpc.ts';
import { compilePolicy } from '../functions/proxy/mcp/policy.ts';
import { checkTransportHeaders } from '../functions/proxy/mcp/transport-headers.ts';
import { parseConfig } from '../functions/shared/config/index.ts';
import { createLogger } from '../functions/shared/log.ts';

/** A `tools/call` of about `bytes` bytes with nested arguments (objects, arrays, escapes). */
export function toolCallBody(bytes: number, name = 'tool_42'): Uint8Array {
  const args: Record<string, unknown> = {};
  const msg = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } };
  for (let i = 0; JSON.stringify(msg).length < bytes; i++) {
    args[`field_${i}`] = {
      text: `lorem "ipsum" dolor\\sit ${i}`,
      n: i * 1.5,
      ok: i % 2 === 0,
      tags: ['a', i],
    };
  }
  return new TextEncoder().encode(JSON.stringify(msg));
}

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
const identity = {
  subject: 'alice',
  clientId: 'c',
  scopes: ['mcp', 'mcp:tools'],
  issuer: 'https://i',
  claims: {},
};
// The audit line is serialised (as at the default info level) and dropped by the sink.
const ctx = { resourceMetadata: 'https://p/prm', log: createLogger('bench', 'info', () => {}) };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Microseconds per request (median of `rounds` rounds of `perRound` calls): each part, the baseline, ratios. */
export function mcpLayerCost(bytes = 10 * 1024, rounds = 200, perRound = 50) {
  const body = toolCallBody(bytes);
  const headers = new Headers({ 'mcp-method': 'tools/call', 'mcp-name': 'tool_42' });
  const decoder = new TextDecoder();
  const parsed = parseMcpBody(body);
  const parseChecked = () => {
    const p = parseMcpBody(body);
    checkTransportHeaders(headers, p);
    return p;
  };
  const decide = () => authorizeBody(policy, parsed, identity, ctx);
  const both = () => authorizeBody(policy, parseChecked(), identity, ctx);
  const plain = () => JSON.parse(decoder.decode(body));
  const time = (f: () => unknown) => {
    const s = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) f();
    return Number(process.hrtime.bigint() - s) / perRound / 1000;
  };
  const fs = [parseChecked, decide, both, plain];
  for (let i = 0; i < 20; i++) for (const f of fs) time(f); // warm the JIT
  const samples: number[][] = fs.map(() => []);
  for (let r = 0; r < rounds; r++) for (const [k, f] of fs.entries()) samples[k]!.push(time(f));
  const [parseUs, decideUs, totalUs, plainUs] = samples.map(median) as [number, number, number, number];
  return { bytes: body.byteLength, parseUs, decideUs, totalUs, plainUs, ratio: totalUs / plainUs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = mcpLayerCost();
  process.stdout.write(
    `MCP layer on a ${c.bytes}-byte tools/call: parse + header check ${c.parseUs.toFixed(1)} µs, ` +
      `policy + audit ${c.decideUs.toFixed(1)} µs, together ${c.totalUs.toFixed(1)} µs median ` +
      `(decode + JSON.parse alone: ${c.plainUs.toFixed(1)} µs; ratio ${c.ratio.toFixed(2)})\n`,
  );
}
