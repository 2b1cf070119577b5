/**
 * `npm start -- --upstream URL --idp-issuer URL --port N` fronts any MCP server and IdP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { freePort } from '../helpers/net.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
let child: ChildProcess;
let port: number;
let output = '';

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  port = await freePort();
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bin/local.ts',
      '--upstream',
      upstream.url,
      '--idp-issuer',
      idp.issuer,
      '--port',
      String(port),
    ],
    {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const end = Date.now() + 20_000;
  while (!output.includes(`http://localhost:${port}/mcp`)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`CLI did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (child?.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await upstream?.close();
  await idp?.close();
});

it('refuses anonymous requests and forwards ones with a token the IdP issued for this resource', async () => {
  const mcp = `http://localhost:${port}/mcp`;
  const anon = await fetch(mcp, { method: 'POST', body: '{}' });
  expect(anon.status).toBe(401);
  expect(upstream.seen).toHaveLength(0);
  const token = await idp.sign({ aud: mcp });
  const ok = await fetch(mcp, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
  expect(ok.status).toBe(200);
  expect(upstream.seen).toHaveLength(1);
  expect(upstream.seen[0]!.headers['x-mcp-auth-subject']).toBe('alice');
});
