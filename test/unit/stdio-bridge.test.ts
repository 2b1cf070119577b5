/**
 * The local runner's stdio bridge (bin/local/stdio-bridge.ts) on its own: only its random path
 * prefix is served, a process is spawned only for an `initialize`, sessions are bounded and a
 * session's process is stopped with it.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StdioBridge, startStdioBridge } from '../../bin/local/stdio-bridge.ts';
import { silentLogger } from '../../functions/shared/log.ts';

/** A stdio "server" answering `initialize` and every other request with an empty result. */
const SERVER = `node -e "require('readline').createInterface({input:process.stdin}).on('line',l=>{const m=JSON.parse(l);if(m.id===undefined)return;const result=m.method==='initialize'?{protocolVersion:m.params.protocolVersion,capabilities:{},serverInfo:{name:'t',version:'1'}}:{};console.log(JSON.stringify({jsonrpc:'2.0',id:m.id,result}))})"`;
const PATHS = { streamableHttp: '/mcp', sse: '/sse', messages: '/messages' };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
});

/** Processes running SERVER's script now (spawned or not registered as a session). */
const servers = () =>
  execFileSync('ps', ['-e', '-o', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('node -e') && l.includes("serverInfo:{name:'t'")).length;

let bridge: StdioBridge;
beforeAll(async () => {
  bridge = await startStdioBridge({ command: SERVER, args: [], env: [] }, PATHS, silentLogger, 1);
});
afterAll(async () => {
  await bridge?.close();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${bridge.url}${path}`, { method: 'POST', headers: { ...HEADERS, ...headers }, body });

it('serves only below its random path segment', async () => {
  expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}$/);
  const origin = new URL(bridge.url).origin;
  const res = await fetch(`${origin}/mcp`, { method: 'POST', headers: HEADERS, body: INIT });
  expect(res.status).toBe(404);
  expect(bridge.pids()).toEqual([]);
});

it('a request that is not an initialize, or for an unknown session, is refused and leaves no process', async () => {
  const ping = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  expect((await post('/mcp', ping)).status).toBe(400);
  expect((await post('/mcp', ping, { 'mcp-session-id': 'nope' })).status).toBe(404);
  expect((await post('/messages?sessionId=nope', ping)).status).toBe(404);
  expect(bridge.pids()).toEqual([]);
  expect(servers()).toBe(0);
});

it('opens a session with its own process, refuses one beyond the bound (503), stops it on DELETE', async () => {
  const first = await post('/mcp', INIT);
  expect(first.status).toBe(200);
  await first.text();
  const sid = first.headers.get('mcp-session-id')!;
  expect(sid).toBeTruthy();
  expect(bridge.pids()).toHaveLength(1);
  expect(servers()).toBe(1);
  const second = await post('/mcp', INIT);
  expect(second.status).toBe(503);
  expect(bridge.pids()).toHaveLength(1);
  const del = await fetch(`${bridge.url}/mcp`, {
    method: 'DELETE',
    headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
  });
  expect(del.status).toBe(200);
  await new Promise((r) => setTimeout(r, 200));
  expect(bridge.pids()).toEqual([]);
  expect((await post('/mcp', INIT)).status).toBe(200);
});
