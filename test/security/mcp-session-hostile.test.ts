/**
 * Session binding (issue 11 item 5; functions/proxy/mcp/session-id.ts) through the real proxy
 * handler behind the local Function URL emulation, in front of a real SDK server (Streamable HTTP
 * sessions and the legacy HTTP+SSE transport: bin/local/demo-mcp-server.ts). Every refused
 * request asserts the exact status and that the upstream received nothing; the same sessions used
 * by their owner keep working, also through another proxy instance with the same secret.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import { unwrapSessionId, wrapSessionId } from '../../functions/proxy/mcp/session-id.ts';
import { deriveProxyKeys } from '../../functions/proxy/proxy-keys.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';

const SECRET = 'hostile-session-test-secret-0123456789abcdef';
const KEY = deriveProxyKeys(SECRET).session;
const VERSION = '2025-06-18';

let idp: TestIssuer;
let otherIdp: TestIssuer;
let upstream: DemoMcpServer;
/** Two instances of one deployment (same secret, same issuer). */
let proxy: ProxyUnderTest;
let twin: ProxyUnderTest;
/** Another deployment sharing the secret, with tokens of another issuer. */
let otherIssuerProxy: ProxyUnderTest;

const configFor = (issuer: TestIssuer) => ({
  provider: 'oidc',
  base_url: upstream.url,
  default: { base_url: issuer.issuer, jwks_url: issuer.jwksUri },
  token: { audience: ['mcp-test'] },
  stream: { heartbeat_seconds: 0 },
  proxy_secret: SECRET,
});

beforeAll(async () => {
  idp = await startTestIssuer();
  otherIdp = await startTestIssuer();
  upstream = await startDemoMcpServer();
  proxy = await startProxy(configFor(idp));
  twin = await startProxy(configFor(idp));
  otherIssuerProxy = await startProxy(configFor(otherIdp));
});
afterAll(async () => {
  for (const p of [proxy, twin, otherIssuerProxy]) await p?.close();
  await upstream?.close();
  await idp?.close();
  await otherIdp?.close();
});

/** Requests the upstream received, all paths. */
const hits = () => [...upstream.hits.values()].reduce((a, b) => a + b, 0);
const tokenOf = (sub: string, issuer = idp) => issuer.sign({ aud: 'mcp-test', sub });

async function rpc(
  base: string,
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Response> {
  return fetch(`${base}/mcp`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION,
      ...headers,
    },
    body: method === 'POST' ? JSON.stringify(body) : undefined,
  });
}

const TOOLS_LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/** initialize + notifications/initialized; the session id the client got. */
async function openSession(base: string, token: string): Promise<string> {
  const res = await rpc(base, token, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'hostile', version: '1' } },
  });
  expect(res.status).toBe(200);
  await res.text();
  const sid = res.headers.get('mcp-session-id')!;
  const done = await rpc(
    base,
    token,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { 'mcp-session-id': sid },
  );
  expect(done.status).toBe(202);
  return sid;
}

/** The request is a 404 `Session not found` and nothing reached the upstream. */
async function expectRefused(send: () => Promise<Response>): Promise<void> {
  const before = hits();
  const res = await send();
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({
    jsonrpc: '2.0',
    id: null,
    error: { code: -32001, message: 'Session not found' },
  });
  expect(hits()).toBe(before);
}

describe('Streamable HTTP: a session id works only with its owner’s token', () => {
  let alice: string;
  let bob: string;
  let aliceSid: string;
  let rawSid: string;
  beforeAll(async () => {
    alice = await tokenOf('alice');
    bob = await tokenOf('bob');
    aliceSid = await openSession(proxy.url, alice);
    rawSid = unwrapSessionId(KEY, { issuer: idp.issuer, subject: 'alice' }, aliceSid)!;
  });

  it('hands the client a wrapped id, not the upstream’s', () => {
    expect(rawSid).toMatch(/^[0-9a-f-]{36}$/); // the SDK's UUID inside
    expect(aliceSid).not.toContain(rawSid);
  });

  it('the owner uses it (and so does another instance with the same secret)', async () => {
    for (const base of [proxy.url, twin.url]) {
      const res = await rpc(base, alice, TOOLS_LIST, { 'mcp-session-id': aliceSid });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('"echo"');
    }
  });

  it('another subject’s token with it: 404, nothing forwarded', async () => {
    await expectRefused(() => rpc(proxy.url, bob, TOOLS_LIST, { 'mcp-session-id': aliceSid }));
  });

  it('the raw upstream id: 404 for anyone, the owner included', async () => {
    await expectRefused(() => rpc(proxy.url, bob, TOOLS_LIST, { 'mcp-session-id': rawSid }));
    await expectRefused(() => rpc(proxy.url, alice, TOOLS_LIST, { 'mcp-session-id': rawSid }));
  });

  it('the raw id wrapped for bob by someone without the key cannot be made: a forged seal is 404', async () => {
    const forged = wrapSessionId(
      deriveProxyKeys('attacker-guess-attacker-guess-0123').session,
      { issuer: idp.issuer, subject: 'bob' },
      rawSid,
    )!;
    await expectRefused(() => rpc(proxy.url, bob, TOOLS_LIST, { 'mcp-session-id': forged }));
  });

  it('an altered id (one character of the payload, or of the MAC): 404', async () => {
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    await expectRefused(() => rpc(proxy.url, alice, TOOLS_LIST, { 'mcp-session-id': flip(aliceSid, 5) }));
    await expectRefused(() =>
      rpc(proxy.url, alice, TOOLS_LIST, { 'mcp-session-id': flip(aliceSid, aliceSid.length - 2) }),
    );
  });

  it('the same subject at another issuer (a deployment sharing the secret): 404', async () => {
    const elsewhere = await tokenOf('alice', otherIdp);
    const theirs = await openSession(otherIssuerProxy.url, elsewhere);
    await expectRefused(() => rpc(proxy.url, alice, TOOLS_LIST, { 'mcp-session-id': theirs }));
    await expectRefused(() =>
      rpc(otherIssuerProxy.url, elsewhere, TOOLS_LIST, { 'mcp-session-id': aliceSid }),
    );
  });

  it('bob’s own valid id beside alice’s raw id under the `_` spelling: 404', async () => {
    const bobSid = await openSession(proxy.url, bob);
    await expectRefused(() =>
      rpc(proxy.url, bob, TOOLS_LIST, { 'mcp-session-id': bobSid, mcp_session_id: rawSid }),
    );
  });

  it('GET (the standalone stream) with a swapped id: 404', async () => {
    await expectRefused(() =>
      rpc(proxy.url, bob, undefined, { 'mcp-session-id': aliceSid, accept: 'text/event-stream' }, 'GET'),
    );
  });

  it('DELETE with a swapped id: 404, and the owner’s session lives on', async () => {
    await expectRefused(() => rpc(proxy.url, bob, undefined, { 'mcp-session-id': aliceSid }, 'DELETE'));
    await expectRefused(() => rpc(proxy.url, bob, undefined, { 'mcp-session-id': rawSid }, 'DELETE'));
    const still = await rpc(proxy.url, alice, TOOLS_LIST, { 'mcp-session-id': aliceSid });
    expect(still.status).toBe(200);
    await still.text();
  });

  it('a request without a session id is forwarded untouched (the upstream answers it)', async () => {
    const before = hits();
    const res = await rpc(proxy.url, bob, TOOLS_LIST);
    expect(res.status).toBe(400); // the SDK server's own answer: no session, not an initialize
    await res.text();
    expect(hits()).toBe(before + 1);
  });
});

describe('legacy HTTP+SSE: the endpoint event’s sessionId is bound too', () => {
  let alice: string;
  let bob: string;
  let endpoint: URL;
  let stream: ReadableStreamDefaultReader<Uint8Array>;
  beforeAll(async () => {
    alice = await tokenOf('alice');
    bob = await tokenOf('bob');
    const res = await fetch(`${proxy.url}/sse`, {
      headers: { authorization: `Bearer ${alice}`, accept: 'text/event-stream' },
    });
    expect(res.status).toBe(200);
    stream = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await stream.read()).value);
    endpoint = new URL(/^data: (.*)$/m.exec(text)![1]!);
  });
  afterAll(() => stream?.cancel());

  const post = (url: URL | string, token: string) =>
    fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
    });
  const raw = () =>
    unwrapSessionId(KEY, { issuer: idp.issuer, subject: 'alice' }, endpoint.searchParams.get('sessionId')!)!;

  it('the endpoint URL is on the proxy and carries a wrapped sessionId', () => {
    expect(endpoint.origin).toBe(proxy.url);
    expect(endpoint.pathname).toBe('/messages');
    expect(raw()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the owner posts to it', async () => {
    const res = await post(endpoint, alice);
    expect(res.status).toBe(202);
  });

  it('another subject posting with it: 404, nothing forwarded', async () => {
    await expectRefused(() => post(endpoint, bob));
  });

  it.each([
    ['sessionId', (id: string) => `?sessionId=${id}`],
    ['session_id', (id: string) => `?session_id=${id}`],
    ['SessionID', (id: string) => `?SessionID=${id}`],
    ['after a `;`', (id: string) => `?x=1;sessionId=${id}`],
    // qs (Express 4's default query parser) reads these as `sessionId: [id]`, PHP `session.id` as `session_id`.
    ['sessionId[]', (id: string) => `?sessionId[]=${id}`],
    ['sessionId%5B%5D', (id: string) => `?sessionId%5B%5D=${id}`],
    ['sessionId[0]', (id: string) => `?sessionId[0]=${id}`],
    ['session.id', (id: string) => `?session.id=${id}`],
  ])('the raw id as %s: 404, nothing forwarded', async (_n, query) => {
    await expectRefused(() => post(`${proxy.url}/messages${query(raw())}`, alice));
  });

  it('a wrapped id smuggled beside the raw one: 404', async () => {
    const wrapped = endpoint.searchParams.get('sessionId')!;
    await expectRefused(() => post(`${proxy.url}/messages?sessionId=${wrapped}&sessionId=${raw()}`, alice));
  });
});

describe('a real SDK client session through the proxy', () => {
  it('initialize → tools/call → DELETE, then the ended session is the upstream’s 404', async () => {
    const token = await tokenOf('carol');
    const transport = new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'sdk-session', version: '1.0.0' });
    await client.connect(transport);
    const sid = transport.sessionId!;
    expect(unwrapSessionId(KEY, { issuer: idp.issuer, subject: 'carol' }, sid)).toMatch(/^[0-9a-f-]{36}$/);
    const r = await client.callTool({ name: 'echo', arguments: { message: 'bound' } });
    expect(r.content).toEqual([{ type: 'text', text: 'bound' }]);
    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    const before = hits();
    const gone = await rpc(proxy.url, token, TOOLS_LIST, { 'mcp-session-id': sid });
    expect(gone.status).toBe(404); // forwarded (it is carol's), and the upstream no longer knows it
    await gone.text();
    expect(hits()).toBe(before + 1);
    await client.close();
  });
});
