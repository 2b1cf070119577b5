/**
 * `npm start` with no arguments: the offline demo on its documented ports (proxy and facade
 * :8080, MCP server :8000, IdP :9000), checked the way the README tells a newcomer to check it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BrowserUser, launchChromium } from '../helpers/browser.ts';
import { type CliRun, startCli } from '../helpers/cli.ts';
import { McpRemote } from '../helpers/mcp-remote.ts';

const PORTS = [8080, 8000, 9000];
let run: CliRun;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

beforeAll(async () => {
  for (const p of PORTS) {
    if (!(await portFree(p)))
      throw new Error(`port ${p} is in use: stop what runs there (a demo left running?) and re-run`);
  }
  run = startCli([]);
  await run.waitFor('Press Ctrl+C to stop.');
});

afterAll(() => run?.stop());

it('answers an anonymous POST with 401 and the documented challenge', async () => {
  const res = await fetch('http://localhost:8080/mcp', { method: 'POST' });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe(
    'Bearer resource_metadata="http://localhost:8080/.well-known/oauth-protected-resource/mcp"',
  );
  const prm = await (await fetch('http://localhost:8080/.well-known/oauth-protected-resource/mcp')).json();
  expect(prm).toMatchObject({
    resource: 'http://localhost:8080/mcp',
    authorization_servers: ['http://localhost:8080'],
  });
  const as = await (await fetch('http://localhost:8080/.well-known/oauth-authorization-server')).json();
  expect(as.issuer).toBe('http://localhost:8080');
});

it('the printed client_credentials client works with the SDK, which finds the facade’s token endpoint itself', async () => {
  const secret = /client_id=demo-cli client_secret=(\S+)/.exec(run.output())?.[1];
  expect(secret, run.output()).toBeTruthy();
  const as = await (await fetch('http://localhost:8080/.well-known/oauth-authorization-server')).json();
  expect(as.token_endpoint).toBe('http://localhost:8080/token');
  expect(as.grant_types_supported).toContain('client_credentials');
  const client = new Client({ name: 'demo-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://localhost:8080/mcp'), {
      authProvider: new ClientCredentialsProvider({
        clientId: 'demo-cli',
        clientSecret: secret!,
        scope: 'mcp:tools',
        expectedIssuer: 'http://localhost:8080',
      }),
    }),
  );
  const result = await client.callTool({ name: 'echo', arguments: { message: 'hi from the demo' } });
  expect(result.content).toEqual([{ type: 'text', text: 'hi from the demo' }]);
  await client.close();
});

/** The printed `TOKEN=$(curl ...)` command, run by bash as a user pastes it. */
function printedTokenCommand(): string {
  const m = /^ {2}(TOKEN=\$\(curl[\s\S]*?access_token'\))$/m.exec(run.output());
  if (!m) throw new Error(`no token command printed:\n${run.output()}`);
  return m[1]!;
}

it('the printed script commands work for every printed endpoint, and only there', async () => {
  const other = /Other endpoints: resource=(\S+) \(legacy SSE\), (\S+) and (\S+) \(via 127\.0\.0\.1\)\./.exec(
    run.output(),
  );
  expect(other, run.output()).toBeTruthy();
  const endpoints = ['http://localhost:8080/mcp', other![1]!, other![2]!, other![3]!];
  expect(endpoints).toEqual([
    'http://localhost:8080/mcp',
    'http://localhost:8080/sse',
    'http://127.0.0.1:8080/mcp',
    'http://127.0.0.1:8080/sse',
  ]);
  for (const endpoint of endpoints) {
    const command = printedTokenCommand().replace(
      'resource=http://localhost:8080/mcp',
      `resource=${endpoint}`,
    );
    const token = execFileSync('bash', ['-c', `${command}; printf %s "$TOKEN"`], { encoding: 'utf8' });
    expect(token, endpoint).toMatch(/^ey/);
    const call = (url: string) =>
      url.endsWith('/sse')
        ? fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } })
        : fetch(url, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json, text/event-stream',
              'content-type': 'application/json',
            },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'initialize',
              params: {
                protocolVersion: '2025-06-18',
                capabilities: {},
                clientInfo: { name: 't', version: '1' },
              },
            }),
          });
    for (const at of endpoints) {
      const res = await call(at);
      await res.body?.cancel();
      // Valid exactly where it was issued for (RFC 8707); a 401 everywhere else.
      expect(res.status, `token for ${endpoint} at ${at}`).toBe(at === endpoint ? 200 : 401);
    }
  }
});

it('the printed curl and Inspector CLI commands answer', async () => {
  const lines = run.output().split('\n');
  const from = lines.findIndex((l) => l.startsWith('  TOKEN=$(curl'));
  const to = lines.findIndex((l) => l.includes('--tool-arg message=hi'));
  const script = lines.slice(from, to + 1).join('\n');
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  expect(out).toContain('"serverInfo":{"name":"demo-mcp-server"'); // the curl initialize
  expect(out).toContain('"text": "hi"'); // the Inspector's tools/call echo
}, 150_000);

it("the README's Claude Desktop snippet signs in through Chromium and calls echo", async () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const snippet = /```json\n\s*(\{ "mcpServers": \{ "demo": \{ "command": "npx".*)\n\s*```/.exec(readme)?.[1];
  expect(snippet).toBeTruthy();
  const { command, args } = JSON.parse(snippet!).mcpServers.demo as { command: string; args: string[] };
  expect(command).toBe('npx');
  // `npx -y mcp-remote@X URL`: run the installed mcp-remote, which must be that version.
  const [flag, pkg, ...rest] = args;
  expect(flag).toBe('-y');
  const installed = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../node_modules/mcp-remote/package.json'), 'utf8'),
  ).version;
  expect(pkg).toBe(`mcp-remote@${installed}`);
  const browser = await launchChromium();
  const configDir = mkdtempSync(join(tmpdir(), 'mcp-remote-readme-'));
  const remote = McpRemote.start(rest[0]!, { configDir });
  try {
    const user = await BrowserUser.open(browser);
    const signIn = /Sign in as\s+(\S+) \/ (\S+)/.exec(run.output())!;
    const r = await user.signIn(await remote.authorizationUrl(), {
      username: signIn[1]!,
      password: signIn[2]!,
      doneAt: (await remote.callbackOrigin()).replace('127.0.0.1', 'localhost'),
    });
    await user.close();
    expect(r.landed.searchParams.get('code')).toBeTruthy();
    await remote.waitForLog(/Proxy established successfully/);
    await remote.initialize();
    const echo = await remote.request('tools/call', {
      name: 'echo',
      arguments: { message: 'from Claude Desktop' },
    });
    expect(echo.result?.content).toEqual([{ type: 'text', text: 'from Claude Desktop' }]);
  } finally {
    await remote.stop();
    await browser.close();
    rmSync(configDir, { recursive: true, force: true });
  }
}, 60_000);
