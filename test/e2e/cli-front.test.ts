/**
 * `npm start -- --upstream URL --idp-issuer URL --port N` fronts any MCP server and IdP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliRun, startCli } from '../helpers/cli.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { freePort } from '../helpers/net.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
let run: CliRun;
let port: number;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  port = await freePort();
  run = startCli(['--upstream', upstream.url, '--idp-issuer', idp.issuer, '--port', String(port)]);
  await run.waitFor(`http://localhost:${port}/mcp`);
});

afterAll(async () => {
  await run?.stop();
  await upstream?.close();
  await idp?.close();
});

it('refuses anonymous requests and forwards ones with a token the IdP issued for this resource', async () => {
  const mcp = `http://localhost:${port}/mcp`;
  const anon = await fetch(mcp, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  expect(anon.status).toBe(401);
  expect(upstream.seen).toHaveLength(0);
  const token = await idp.sign({ aud: mcp });
  const ok = await fetch(mcp, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  expect(ok.status).toBe(200);
  expect(upstream.seen).toHaveLength(1);
  expect(upstream.seen[0]!.headers['x-mcp-auth-subject']).toBe('alice');
});
