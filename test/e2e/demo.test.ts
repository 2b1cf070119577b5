/**
 * `npm start` with no arguments: the offline demo on its documented ports (proxy and facade
 * :8080, MCP server :8000, IdP :9000), checked the way the README tells a newcomer to check it.
 */
import net from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliRun, startCli } from '../helpers/cli.ts';

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

it('lets a script use the printed client_credentials client to call the echo tool', async () => {
  const secret = /client_id=demo-cli client_secret=(\S+)/.exec(run.output())?.[1];
  expect(secret, run.output()).toBeTruthy();
  const tokenRes = await fetch('http://localhost:9000/token', {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`demo-cli:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: 'http://localhost:8080/mcp',
      scope: 'mcp:tools',
    }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const client = new Client({ name: 'demo-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://localhost:8080/mcp'), {
      requestInit: { headers: { authorization: `Bearer ${access_token}` } },
    }),
  );
  const result = await client.callTool({ name: 'echo', arguments: { message: 'hi from the demo' } });
  expect(result.content).toEqual([{ type: 'text', text: 'hi from the demo' }]);
  await client.close();
});
