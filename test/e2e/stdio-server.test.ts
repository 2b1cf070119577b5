/**
 * `transport_mode: stdio` (the original's stdio servers): `npm start` spawns
 * `@modelcontextprotocol/server-everything` in stdio mode, one process per MCP session, behind the
 * proxy; a real SDK client with a token from the test issuer lists its tools and calls `echo`
 * over Streamable HTTP and legacy SSE. The children are gone after the session ends and after the
 * runner stops (SIGINT), and without a token nothing is spawned.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliRun, startCli } from '../helpers/cli.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { freePort } from '../helpers/net.ts';

let idp: TestIssuer;
let run: CliRun;
let port: number;

/**
 * The stdio servers below `pid` (the shell running the command, and what it started), from `ps`
 * (the runner has other children: tsx's esbuild service).
 */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const out: number[] = [];
  const walk = (p: number, inServer: boolean) => {
    for (const r of rows.filter((r) => r.ppid === p)) {
      const server = inServer || r.args.includes('server-everything');
      if (server) out.push(r.pid);
      walk(r.pid, server);
    }
  };
  walk(pid, false);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return cond();
}

beforeAll(async () => {
  idp = await startTestIssuer();
  port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'stdio-'));
  const file = join(dir, 'config.yaml');
  // The original's shape: no base_url (the bridge is the upstream), its stdio block.
  writeFileSync(
    file,
    `listen_port: ${port}
transport_mode: stdio
stdio:
  enabled: true
  user_command: "npx --no mcp-server-everything"
  args: [stdio]
  env:
    - "STDIO_TEST=1"
provider: oidc
default:
  base_url: ${idp.issuer}
`,
  );
  run = startCli(['--config', file]);
  await run.waitFor(`http://localhost:${port}/mcp`);
});

afterAll(async () => {
  await run?.stop();
  await idp?.close();
});

async function connect(transport: 'streamable' | 'sse', path: string): Promise<Client> {
  const url = new URL(`http://localhost:${port}${path}`);
  const token = await idp.sign({ aud: url.href });
  const requestInit = { headers: { authorization: `Bearer ${token}` } };
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(
    transport === 'streamable'
      ? new StreamableHTTPClientTransport(url, { requestInit })
      : new SSEClientTransport(url, {
          requestInit,
          eventSourceInit: {
            fetch: (u, init) => {
              const headers = new Headers(init?.headers);
              headers.set('authorization', requestInit.headers.authorization);
              return fetch(u, { ...init, headers });
            },
          },
        }),
  );
  return client;
}

it('nothing is spawned for a request without a token', async () => {
  const res = await fetch(`http://localhost:${port}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    }),
  });
  expect(res.status).toBe(401);
  expect(descendants(run.child.pid!)).toEqual([]);
});

it('a real SDK client lists the tools and calls echo over Streamable HTTP; DELETE stops its server', async () => {
  const client = await connect('streamable', '/mcp');
  const children = descendants(run.child.pid!);
  expect(children.length).toBeGreaterThan(0);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toContain('echo');
  const result = await client.callTool({ name: 'echo', arguments: { message: 'hello stdio' } });
  expect(JSON.stringify(result.content)).toContain('hello stdio');
  // `stdio.env` reaches the server, on top of the runner's environment.
  const env = await client.callTool({ name: 'get-env', arguments: {} });
  expect(JSON.stringify(env.content)).toContain('STDIO_TEST');
  expect(JSON.stringify(env.content)).toContain('PATH');
  await (client.transport as StreamableHTTPClientTransport).terminateSession();
  await client.close();
  expect(await until(() => children.every((p) => !alive(p)))).toBe(true);
});

it('the same over the legacy SSE transport, one server process per session', async () => {
  const a = await connect('sse', '/sse');
  const b = await connect('streamable', '/mcp');
  expect(descendants(run.child.pid!).length).toBeGreaterThanOrEqual(2);
  const result = await a.callTool({ name: 'echo', arguments: { message: 'over sse' } });
  expect(JSON.stringify(result.content)).toContain('over sse');
  expect((await b.listTools()).tools.length).toBeGreaterThan(0);
  await b.close();
  await a.close();
});

it('stopping the runner stops every stdio server it started (no orphans)', async () => {
  const client = await connect('streamable', '/mcp');
  await client.listTools();
  const children = descendants(run.child.pid!);
  expect(children.length).toBeGreaterThan(0);
  await run.stop();
  expect(await until(() => children.every((p) => !alive(p)))).toBe(true);
  // Nothing failed: nothing that looks like a failure in what the runner (and the servers) printed.
  expect(run.output()).not.toMatch(/WARN|Warning|ERROR|Error|\n\s+at /);
});
