/**
 * Hostile cases for the MCP scope policy (issue 11), through the real proxy handler behind the
 * local Function URL emulation, with a scriptable upstream that records what reached it. Each
 * asserts the exact status, the challenge (or its absence) and that nothing reached the upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
/** Policy in the original's shape and ours, `unlisted: allow`, global scope `base`. */
let open: ProxyUnderTest;
/** `unlisted: deny`. */
let closed: ProxyUnderTest;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  const common = {
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    paths: { messages: '/messages' },
  };
  open = await startProxy({
    ...common,
    token: { required_scopes: ['base'] },
    protected_resource_metadata: {
      scopes_supported: [{ initialize: 'mcp_init' }, { 'tools/call': [{ echo_tool: 'mcp_echo_tool' }] }],
    },
    mcp_policy: {
      methods: { 'x-vendor/run': 'vendor' },
      tools: { admin_tool: 'mcp:tools:admin', café: 'mcp:cafe', wide: 'mcp:toolsx' },
      prompts: { secret_prompt: 'mcp:prompts:secret' },
      resources: { 'file:///etc/passwd': 'mcp:resources:etc' },
    },
  });
  closed = await startProxy({
    ...common,
    mcp_policy: { tools: { echo_tool: 'mcp_echo_tool' }, unlisted: 'deny' },
  });
});

afterAll(async () => {
  await Promise.all([open?.close(), closed?.close()]);
  await upstream?.close();
  await idp?.close();
});

beforeEach(() => {
  upstream.seen.length = 0;
  upstream.setHandler((_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
  });
});

const msg = (method: string, params?: Record<string, unknown>, id: number | null = 1) => ({
  jsonrpc: '2.0',
  ...(id === null ? {} : { id }),
  method,
  ...(params ? { params } : {}),
});
const call = (name: unknown, id = 1) => msg('tools/call', { name, arguments: { text: 'hi' } }, id);

async function post(
  proxy: ProxyUnderTest,
  body: unknown,
  scope: string,
  opts: { headers?: Record<string, string>; path?: string; version?: string | null } = {},
) {
  const path = opts.path ?? '/mcp';
  const resource = `${proxy.url}${path.startsWith('/messages') ? '/sse' : '/mcp'}`;
  const token = await idp.sign({ aud: resource, scope });
  const version = opts.version === undefined ? '2025-11-25' : opts.version;
  const res = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(version ? { 'mcp-protocol-version': version } : {}),
      ...opts.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

const challenge = (proxy: ProxyUnderTest, scope: string) =>
  `Bearer error="insufficient_scope", error_description="insufficient scope", scope="${scope}", resource_metadata="${proxy.url}/.well-known/oauth-protected-resource/mcp"`;

describe('per-tool and per-method scopes, one challenge with every scope', () => {
  it.each<[string, unknown, string, string]>([
    ['a forbidden tool', call('echo_tool'), 'base', 'base mcp_echo_tool'],
    ['a forbidden method', msg('initialize', { protocolVersion: '2025-11-25' }), 'base', 'base mcp_init'],
    ['a forbidden method as a notification', msg('x-vendor/run', {}, null), 'base', 'base vendor'],
    [
      'the global scope missing, the tool scope held: both in the challenge',
      call('echo_tool'),
      'mcp_echo_tool',
      'base mcp_echo_tool',
    ],
    ['both missing: both in the challenge, global first', call('echo_tool'), 'other', 'base mcp_echo_tool'],
    ['a forbidden prompt', msg('prompts/get', { name: 'secret_prompt' }), 'base', 'base mcp:prompts:secret'],
    [
      'a forbidden resource',
      msg('resources/read', { uri: 'file:///etc/passwd' }),
      'base',
      'base mcp:resources:etc',
    ],
    [
      'a forbidden resource by %-escapes',
      msg('resources/read', { uri: 'file:///etc/%70asswd' }),
      'base',
      'base mcp:resources:etc',
    ],
    [
      'a forbidden resource by dot segments',
      msg('resources/read', { uri: 'file:///tmp/../etc/passwd' }),
      'base',
      'base mcp:resources:etc',
    ],
    [
      'a subscription to a forbidden resource',
      msg('resources/subscribe', { uri: 'file:///etc/passwd' }),
      'base',
      'base mcp:resources:etc',
    ],
  ])('%s → 403 insufficient_scope, nothing forwarded', async (_name, body, scope, needed) => {
    const r = await post(open, body, scope);
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(challenge(open, needed));
    expect(upstream.seen).toHaveLength(0);
  });

  it('positive control: the same tool with its scopes reaches the upstream, bytes unchanged', async () => {
    const body = JSON.stringify(call('echo_tool'));
    const r = await post(open, body, 'base mcp_echo_tool');
    expect(r.status).toBe(200);
    expect(upstream.seen.map((s) => s.body)).toEqual([body]);
  });
});

describe('batches: one forbidden element refuses the whole POST', () => {
  it.each<[string, unknown[], string, string]>([
    [
      'allowed initialize + forbidden tool',
      [msg('initialize', {}, 1), call('echo_tool', 2)],
      'base mcp_init',
      'base mcp_init mcp_echo_tool',
    ],
    [
      'forbidden tool first, allowed after',
      [call('echo_tool', 1), call('other', 2)],
      'base',
      'base mcp_echo_tool',
    ],
    [
      '49 allowed calls and a forbidden one last',
      [...Array.from({ length: 49 }, (_, i) => call('other', i + 1)), call('admin_tool', 50)],
      'base',
      'base mcp:tools:admin',
    ],
    [
      'a forbidden notification among allowed requests',
      [call('other', 1), msg('x-vendor/run', {}, null)],
      'base',
      'base vendor',
    ],
    [
      'two forbidden tools: both scopes in one challenge',
      [call('echo_tool', 1), call('admin_tool', 2)],
      'base',
      'base mcp_echo_tool mcp:tools:admin',
    ],
  ])('%s → 403', async (_name, body, scope, needed) => {
    const r = await post(open, body, scope, { version: '2025-03-26' });
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(challenge(open, needed));
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('names are exact; look-alikes never need fewer scopes', () => {
  it.each<[string, unknown, string]>([
    ['ECHO_TOOL', call('ECHO_TOOL'), 'base mcp_echo_tool'],
    ['Echo_Tool', call('Echo_Tool'), 'base mcp_echo_tool'],
    ['fullwidth ｅｃｈｏ＿ｔｏｏｌ (NFKC)', call('ｅｃｈｏ＿ｔｏｏｌ'), 'base mcp_echo_tool'],
    ['echo_tool with a zero-width space', call('echo\u200b_tool'), 'base mcp_echo_tool'],
    ['echo_tool with a trailing space', call('echo_tool '), 'base mcp_echo_tool'],
    ['echo_tool with a soft hyphen', call('echo_\u00adtool'), 'base mcp_echo_tool'],
    ['café decomposed (NFD)', call('cafe\u0301'), 'base mcp:cafe'],
    ['ａdmin_tool (a fullwidth a)', call('ａdmin_tool'), 'base mcp:tools:admin'],
  ])('%s → 403 with the scope of the tool it looks like', async (_name, body, needed) => {
    const r = await post(open, body, 'base');
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(challenge(open, needed));
    expect(upstream.seen).toHaveLength(0);
  });

  it('a Cyrillic look-alike is another name: unlisted: allow forwards it as written (the upstream has no such tool)', async () => {
    const r = await post(open, call('еcho_tool'), 'base');
    expect(r.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(JSON.parse(upstream.seen[0]!.body).params.name).toBe('еcho_tool');
  });

  it.each<[string, string]>([
    ['the Cyrillic look-alike', 'еcho_tool'],
    ['a case variant', 'Echo_tool'],
    ['the NFKC variant', 'ｅｃｈｏ_tool'],
    ['an unlisted tool', 'rm_rf'],
  ])('unlisted: deny refuses %s with 403 forbidden (no challenge), whatever the scopes', async (_n, name) => {
    const r = await post(closed, call(name), 'mcp_echo_tool');
    expect(r.status).toBe(403);
    expect(r.challenge).toBeNull();
    expect(JSON.parse(r.body)).toEqual({
      error: 'forbidden',
      error_description: 'this tool is not available through this proxy',
    });
    expect(upstream.seen).toHaveLength(0);
  });

  it('unlisted: deny still forwards the listed tool with its scope', async () => {
    const r = await post(closed, call('echo_tool'), 'mcp_echo_tool');
    expect(r.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
  });
});

describe('a tool name that is not a string cannot dodge its rule', () => {
  it.each<[string, unknown]>([
    ['a list holding the name', call(['echo_tool'])],
    ['an object', call({ toString: 'echo_tool' })],
    ['no name at all', msg('tools/call', { arguments: {} })],
  ])('%s → 400, nothing forwarded', async (_n, body) => {
    const r = await post(open, body, 'base');
    expect(r.status).toBe(400);
    expect(r.challenge).toBeNull();
    expect(JSON.parse(r.body).error.code).toBe(-32602);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('method names: case variants never dodge a rule', () => {
  it.each<[string, string, string]>([
    ['Tools/call', 'tools/call', 'echo_tool'],
    ['TOOLS/CALL', 'tools/call', 'echo_tool'],
    ['INITIALIZE', 'initialize', ''],
    ['X-Vendor/Run', 'x-vendor/run', ''],
  ])('%s → refused before the upstream', async (method, _canonical, name) => {
    const r = await post(open, msg(method, name ? { name } : {}), 'base');
    // The parser refuses case variants of MCP methods (400); the policy folds the rest (403).
    if (method === 'X-Vendor/Run') {
      expect(r.status).toBe(403);
      expect(r.challenge).toBe(challenge(open, 'base vendor'));
    } else {
      expect(r.status).toBe(400);
      expect(r.challenge).toBeNull();
    }
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('a missing or old MCP-Protocol-Version never weakens the policy', () => {
  it.each<[string, string | null]>([
    ['missing', null],
    ['2024-11-05', '2024-11-05'],
    ['2025-03-26', '2025-03-26'],
    ['2025-06-18', '2025-06-18'],
  ])('version %s → 403', async (_n, version) => {
    const r = await post(open, call('echo_tool'), 'base', { version });
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(challenge(open, 'base mcp_echo_tool'));
    expect(upstream.seen).toHaveLength(0);
  });

  it('2026-07-28 with its Mcp-Method / Mcp-Name headers → 403', async () => {
    const headers = { 'mcp-method': 'tools/call', 'mcp-name': 'echo_tool' };
    const r = await post(open, call('echo_tool'), 'base', { version: '2026-07-28', headers });
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(challenge(open, 'base mcp_echo_tool'));
    expect(upstream.seen).toHaveLength(0);
  });

  it('headers naming an allowed tool cannot carry a forbidden one in the body → 400, nothing forwarded', async () => {
    const headers = { 'mcp-method': 'tools/call', 'mcp-name': 'other' };
    const r = await post(open, call('echo_tool'), 'base', { version: '2026-07-28', headers });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe(-32020);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('scope hierarchy (separator `:`)', () => {
  it.each<[string, string, number]>([
    ['mcp:tools covers mcp:tools:admin', 'base mcp:tools', 200],
    ['mcp covers mcp:tools:admin (two levels)', 'base mcp', 200],
    ['mcp:tools:admin itself', 'base mcp:tools:admin', 200],
  ])('%s', async (_n, scope, status) => {
    const r = await post(open, call('admin_tool'), scope);
    expect(r.status).toBe(status);
    expect(upstream.seen).toHaveLength(1);
  });

  it.each<[string, string, string, string]>([
    ['mcp:tool does not cover mcp:tools:admin', 'admin_tool', 'base mcp:tool', 'base mcp:tools:admin'],
    ['mcp:tools does not cover mcp:toolsx (no separator)', 'wide', 'base mcp:tools', 'base mcp:toolsx'],
    [
      'a narrower scope never covers a broader one',
      'admin_tool',
      'base mcp:tools:admin:read',
      'base mcp:tools:admin',
    ],
    ['scopes are case-sensitive (MCP:TOOLS)', 'admin_tool', 'base MCP:TOOLS', 'base mcp:tools:admin'],
  ])('%s → 403', async (_n, tool, scope, needed) => {
    const r = await post(open, call(tool), scope);
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(challenge(open, needed));
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('requests without a body', () => {
  it('a GET stream without the global scope → 403 naming it, nothing forwarded', async () => {
    const token = await idp.sign({ aud: `${open.url}/mcp`, scope: 'mcp_echo_tool' });
    const res = await fetch(`${open.url}/mcp`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(challenge(open, 'base'));
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('the legacy /messages endpoint has the same policy', () => {
  it('a forbidden tool posted to /messages → 403, nothing forwarded', async () => {
    const r = await post(open, call('echo_tool'), 'base', { path: '/messages?sessionId=abc' });
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(
      `Bearer error="insufficient_scope", error_description="insufficient scope", scope="base mcp_echo_tool", resource_metadata="${open.url}/.well-known/oauth-protected-resource/sse"`,
    );
    expect(upstream.seen).toHaveLength(0);
  });
});
