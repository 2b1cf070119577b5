/**
 * Filtered listings through the real proxy handler behind the local Function URL emulation: a
 * real SDK client lists tools, prompts, resources and templates of a real SDK McpServer (Streamable
 * HTTP with JSON responses and with SSE responses, and the legacy HTTP+SSE transport) and sees only
 * what its token may use; a handwritten upstream pages its tools (cursors still work), streams
 * (events pass without delay), and answers in ways the filter cannot read (fail closed).
 *
 * The filter is the real one: the config's `mcp_policy` (one scope per tool, prompt, resource and
 * template), compiled by mcp/policy.ts, for the POST body the proxy parsed (mcp/body.ts).
 */
import { gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LISTING_BYTES } from '../../functions/proxy/forward/listing-body.ts';
import { UNREADABLE_LISTING } from '../../functions/proxy/mcp/listing.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { serve, type TestServer } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, type SeenRequest, startFakeUpstream } from '../helpers/upstream.ts';

const TOOLS = ['echo', 'add', 'rm', 'admin_reset'];
const PROMPTS = ['greet', 'leak'];
const RESOURCES = ['file:///a.txt', 'file:///b.txt', 'file:///secret.txt'];
const TEMPLATES = ['file:///{path}', 'db://{table}'];

function buildServer(): McpServer {
  const s = new McpServer({ name: 'listing-upstream', version: '1.0.0' });
  for (const t of TOOLS) s.registerTool(t, { description: t }, async () => ({ content: [] }));
  for (const p of PROMPTS) s.registerPrompt(p, { description: p }, async () => ({ messages: [] }));
  for (const uri of RESOURCES) s.registerResource(uri, uri, {}, async () => ({ contents: [] }));
  for (const t of TEMPLATES) {
    s.registerResource(t, new ResourceTemplate(t, { list: undefined }), {}, async () => ({ contents: [] }));
  }
  return s;
}

/** A real SDK server: stateless Streamable HTTP at /mcp (JSON or SSE responses), legacy SSE at /sse. */
async function startSdkUpstream(mode: { json: boolean }): Promise<TestServer> {
  const legacy = new Map<string, SSEServerTransport>();
  return serve(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/mcp') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: mode.json,
      });
      res.on('close', () => t.close());
      await buildServer().connect(t);
      await t.handleRequest(req, res, text ? JSON.parse(text) : undefined);
    } else if (url.pathname === '/sse') {
      const t = new SSEServerTransport('/messages', res);
      legacy.set(t.sessionId, t);
      res.on('close', () => legacy.delete(t.sessionId));
      await buildServer().connect(t);
    } else {
      await legacy.get(url.searchParams.get('sessionId') ?? '')?.handlePostMessage(req, res);
    }
  });
}

let idp: TestIssuer;
const mode = { json: true };
let sdkUpstream: TestServer;
let proxy: ProxyUnderTest;
let unfiltered: ProxyUnderTest;
let fake: FakeUpstream;
let fakeProxy: ProxyUnderTest;

/** `tool:<name>`, `prompt:<name>`, `resource:<uri or template>` for each. */
const ruled = (kind: string, names: string[]) => Object.fromEntries(names.map((n) => [n, `${kind}:${n}`]));
const POLICY = {
  tools: ruled('tool', TOOLS),
  prompts: ruled('prompt', PROMPTS),
  resources: ruled('resource', [...RESOURCES, ...TEMPLATES]),
};

const proxyConfig = (baseUrl: string, mcpPolicy?: unknown) => ({
  provider: 'oidc',
  base_url: baseUrl,
  default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
  token: { audience: ['mcp-test'] },
  stream: { heartbeat_seconds: 0 },
  ...(mcpPolicy ? { mcp_policy: mcpPolicy } : {}),
});

beforeAll(async () => {
  idp = await startTestIssuer();
  sdkUpstream = await startSdkUpstream(mode);
  proxy = await startProxy(proxyConfig(sdkUpstream.url, POLICY));
  unfiltered = await startProxy(proxyConfig(sdkUpstream.url));
  fake = await startFakeUpstream();
  // Only echo and add, each with its scope: every other tool of the paging upstream is hidden.
  const paging = { tools: { echo: 'tool:echo', add: 'tool:add' }, unlisted: 'deny' };
  fakeProxy = await startProxy(proxyConfig(fake.url, paging));
});
afterAll(async () => {
  for (const s of [proxy, unfiltered, fakeProxy, sdkUpstream, fake, idp]) await s?.close();
});

const NARROW = 'mcp:tools tool:echo tool:add prompt:greet resource:file:///a.txt resource:file:///{path}';
const token = (scope = NARROW) => idp.sign({ aud: 'mcp-test', scope });

async function connect(origin: string, transport: 'streamable' | 'sse', scope?: string): Promise<Client> {
  const requestInit = { headers: { authorization: `Bearer ${await token(scope)}` } };
  const client = new Client({ name: 'listing-test', version: '1.0.0' });
  await client.connect(
    transport === 'sse'
      ? new SSEClientTransport(new URL(`${origin}/sse`), { requestInit })
      : new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { requestInit }),
  );
  return client;
}

async function everything(client: Client) {
  return {
    tools: (await client.listTools()).tools.map((t) => t.name),
    prompts: (await client.listPrompts()).prompts.map((p) => p.name),
    resources: (await client.listResources()).resources.map((r) => r.uri),
    templates: (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate),
  };
}

const ALLOWED = {
  tools: ['echo', 'add'],
  prompts: ['greet'],
  resources: ['file:///a.txt'],
  templates: ['file:///{path}'],
};

describe('a real SDK client sees only what its token may use', () => {
  it.each<[string, boolean, 'streamable' | 'sse']>([
    ['Streamable HTTP, JSON responses', true, 'streamable'],
    ['Streamable HTTP, SSE responses', false, 'streamable'],
    ['legacy HTTP+SSE (by shape)', true, 'sse'],
  ])('%s', async (_n, json, transport) => {
    mode.json = json;
    const control = await connect(unfiltered.url, transport);
    // Without the filter the same token sees everything: the upstream really lists it all.
    expect(await everything(control)).toEqual({
      tools: TOOLS,
      prompts: PROMPTS,
      resources: RESOURCES,
      templates: TEMPLATES,
    });
    await control.close();
    const client = await connect(proxy.url, transport);
    expect(await everything(client)).toEqual(ALLOWED);
    // Other calls pass: the filter touches listings only.
    expect((await client.callTool({ name: 'echo', arguments: {} })).content).toEqual([]);
    await client.close();
  });

  it('a token with none of them sees empty listings (and other tokens are filtered by their own scopes)', async () => {
    mode.json = true;
    const none = await connect(proxy.url, 'streamable', 'mcp:tools');
    expect(await everything(none)).toEqual({ tools: [], prompts: [], resources: [], templates: [] });
    await none.close();
    const other = await connect(proxy.url, 'streamable', 'tool:rm prompt:leak');
    expect((await other.listTools()).tools.map((t) => t.name)).toEqual(['rm']);
    expect((await other.listPrompts()).prompts.map((p) => p.name)).toEqual(['leak']);
    await other.close();
  });
});

/** The handwritten upstream: an MCP server that pages its tools three at a time. */
const PAGES: Record<string, { tools: string[]; next?: string }> = {
  '': { tools: ['echo', 'rm', 'admin_reset'], next: 'p2' },
  p2: { tools: ['leak1', 'leak2', 'leak3'], next: 'p3' },
  p3: { tools: ['add'] },
};

type Rpc = { id?: string | number; method?: string; params?: { cursor?: string; protocolVersion?: string } };

function answer(m: Rpc): unknown {
  if (m.method === 'initialize') {
    const info = { name: 'paging', version: '1' };
    return { protocolVersion: m.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: info };
  }
  const page = PAGES[m.params?.cursor ?? ''];
  if (!page) return undefined;
  const tools = page.tools.map((name) => ({ name, inputSchema: { type: 'object' } }));
  return page.next ? { tools, nextCursor: page.next } : { tools };
}

function pagingUpstream(sse: boolean) {
  fake.setHandler((r: SeenRequest, res) => {
    // No standalone GET stream, no sessions to delete.
    if (r.method !== 'POST') return void res.writeHead(405).end();
    const m = JSON.parse(r.body) as Rpc;
    if (m.id === undefined) return void res.writeHead(202).end();
    const body = JSON.stringify({ jsonrpc: '2.0', id: m.id, result: answer(m) });
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
    res.end(sse ? `id: ev-${m.id}\nevent: message\ndata: ${body}\n\n` : body);
  });
}

describe('pagination: a filtered page keeps its cursor', () => {
  it.each([
    ['JSON', false],
    ['SSE', true],
  ])('%s', async (_n, sse) => {
    pagingUpstream(sse);
    const client = await connect(fakeProxy.url, 'streamable');
    const p1 = await client.listTools();
    expect([p1.tools.map((t) => t.name), p1.nextCursor]).toEqual([['echo'], 'p2']);
    const p2 = await client.listTools({ cursor: p1.nextCursor });
    expect([p2.tools, p2.nextCursor]).toEqual([[], 'p3']);
    const p3 = await client.listTools({ cursor: p2.nextCursor });
    expect([p3.tools.map((t) => t.name), p3.nextCursor]).toEqual([['add'], undefined]);
    // The cursors reached the upstream unchanged.
    const posts = fake.seen.filter((s) => s.method === 'POST');
    const cursors = posts.map((s) => JSON.parse(s.body).params?.cursor).filter(Boolean);
    expect(cursors).toEqual(['p2', 'p3']);
    fake.seen.length = 0;
    await client.close();
  });
});

const post = async (body: unknown, scope?: string) =>
  fetch(`${fakeProxy.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await token(scope)}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify(body),
  });
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const CALL = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } };
const listed = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  result: { tools: [{ name: 'echo' }, { name: 'rm' }] },
});

describe('the response step', () => {
  it('filters a batch response element by element and fixes Content-Length', async () => {
    const body = JSON.stringify([
      { jsonrpc: '2.0', id: 'c', result: { tools: [{ name: 'rm' }] } },
      { jsonrpc: '2.0', id: 'l', result: { tools: [{ name: 'echo' }, { name: 'rm' }], nextCursor: 'n' } },
    ]);
    fake.setHandler((_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const res = await post([
      { jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'echo' } },
      { jsonrpc: '2.0', id: 'l', method: 'tools/list' },
    ]);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toEqual([
      { jsonrpc: '2.0', id: 'c', result: { tools: [{ name: 'rm' }] } },
      { jsonrpc: '2.0', id: 'l', result: { tools: [{ name: 'echo' }], nextCursor: 'n' } },
    ]);
  });

  it('passes an allowed listing and a non-listing response byte for byte', async () => {
    const allowed = '{"jsonrpc":"2.0", "id":1,\n "result":{"tools":[{"name":"echo"}]}}\n';
    fake.setHandler((_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(allowed));
    expect(await (await post(LIST)).text()).toBe(allowed);
    fake.setHandler((_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(listed));
    expect(await (await post(CALL)).text()).toBe(listed);
  });

  it('passes an upstream error status for a listing unaltered', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"}]}}';
    fake.setHandler((_r, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(body));
    const res = await post(LIST);
    expect([res.status, await res.text()]).toEqual([400, body]);
  });

  it.each<[string, (res: import('node:http').ServerResponse) => void]>([
    [
      'a compressed listing',
      (res) =>
        res
          .writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
          .end(gzipSync(listed)),
    ],
    [
      'a listing that is not JSON',
      (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>'),
    ],
    [
      'a listing over the size limit',
      (res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(' '.repeat(MAX_LISTING_BYTES + 1)),
    ],
    [
      'a compressed SSE stream answering a listing',
      (res) =>
        res
          .writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' })
          .end(gzipSync(listed)),
    ],
  ])('fails closed on %s: 502 with a JSON-RPC error', async (_n, reply) => {
    fake.setHandler((_r, res) => reply(res));
    const res = await post(LIST);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: UNREADABLE_LISTING, message: 'upstream listing response could not be read' },
    });
  });

  it('does not buffer or judge a response to a request without a listing call', async () => {
    const gz = gzipSync(listed);
    fake.setHandler((_r, res) =>
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gz),
    );
    const res = await post(CALL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
  });

  it('streams SSE: an event is delivered before the upstream writes the next, the listing filtered with its id', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    fake.setHandler(async (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: e1\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n');
      await gate;
      res.end(`id: e2\nevent: message\ndata: ${listed}\n\n`);
    });
    const res = await post(LIST);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    while (!text.includes('\n\n')) text += dec.decode((await reader.read()).value, { stream: true });
    expect(text).toBe('id: e1\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n');
    release();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += dec.decode(r.value);
    const kept = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'echo' }] } });
    expect(text.slice(text.indexOf('\n\n') + 2)).toBe(`id: e2\nevent: message\ndata: ${kept}\n\n`);
  });

  it('filters a GET stream (a resumed one carries answers to earlier POSTs) by shape', async () => {
    fake.setHandler((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`id: 9\ndata: ${listed.replace('"id":1', '"id":41')}\n\n`);
    });
    const res = await fetch(`${fakeProxy.url}/mcp`, {
      headers: {
        authorization: `Bearer ${await token()}`,
        accept: 'text/event-stream',
        'last-event-id': '8',
      },
    });
    const kept = JSON.stringify({ jsonrpc: '2.0', id: 41, result: { tools: [{ name: 'echo' }] } });
    expect(await res.text()).toBe(`id: 9\ndata: ${kept}\n\n`);
  });
});
