/**
 * The MCP scope policy's decision (functions/proxy/mcp/policy.ts), the scope hierarchy
 * (functions/proxy/scopes.ts), name folding (mcp/names.ts) and the audit line (mcp/audit.ts), on
 * `ParsedBody` values as the parser hands them over.
 */
import { describe, expect, it } from 'vitest';
import { authorizeBody } from '../../functions/proxy/auth/authorize.ts';
import { fold, foldUri } from '../../functions/proxy/mcp/names.ts';
import { compilePolicy, decideBody, listingFilter, policyView } from '../../functions/proxy/mcp/policy.ts';
import type { McpMessage, ParsedBody } from '../../functions/proxy/mcp/types.ts';
import { covers, effectiveScopes, missingScopes } from '../../functions/proxy/scopes.ts';
import type { Identity } from '../../functions/proxy/token.ts';
import { parseConfig, type ScopeHierarchy } from '../../functions/shared/config/index.ts';
import { errorResponse, type OAuthError } from '../../functions/shared/errors.ts';
import { createLogger } from '../../functions/shared/log.ts';

const policyOf = (extra: Record<string, unknown> = {}) =>
  compilePolicy(parseConfig({ base_url: 'http://localhost:8000', ...extra }));

const req = (method: string, params?: Record<string, unknown>, id: string | number = 1): McpMessage =>
  params ? { kind: 'request', id, method, params } : { kind: 'request', id, method };
const one = (m: McpMessage): ParsedBody => ({ batch: false, messages: [m] });
const batch = (...messages: McpMessage[]): ParsedBody => ({ batch: true, messages });
const call = (name: unknown, id: string | number = 1) => req('tools/call', { name, arguments: {} }, id);

const ORIGINAL = {
  protected_resource_metadata: {
    scopes_supported: [{ initialize: 'mcp_init' }, { 'tools/call': [{ echo_tool: 'mcp_echo_tool' }] }],
  },
};

describe('scope hierarchy (scopes.ts)', () => {
  const colon: ScopeHierarchy = { separators: [':'], implies: new Map() };
  it.each<[string, string[], string, ScopeHierarchy, boolean]>([
    ['equal', ['mcp:tools'], 'mcp:tools', colon, true],
    ['a broader scope at a separator', ['mcp:tools'], 'mcp:tools:echo', colon, true],
    ['two levels up', ['mcp'], 'mcp:tools:echo', colon, true],
    ['not at a separator (mcp:tool → mcp:tools:echo)', ['mcp:tool'], 'mcp:tools:echo', colon, false],
    ['a prefix that is no segment (mcp:tools → mcp:toolsx)', ['mcp:tools'], 'mcp:toolsx', colon, false],
    ['narrower never covers broader', ['mcp:tools:echo'], 'mcp:tools', colon, false],
    ['a granted scope ending in the separator', ['mcp:'], 'mcp:tools', colon, false],
    ['no case folding', ['MCP:tools'], 'mcp:tools:echo', colon, false],
    ['another separator not configured', ['mcp'], 'mcp/tools', colon, false],
    [
      'a configured second separator',
      ['mcp'],
      'mcp/tools',
      { separators: [':', '/'], implies: new Map() },
      true,
    ],
    ['hierarchy off', ['mcp:tools'], 'mcp:tools:echo', { separators: [], implies: new Map() }, false],
    [
      'implied',
      ['admin'],
      'mcp:tools',
      { separators: [], implies: new Map([['admin', ['mcp:tools']]]) },
      true,
    ],
    [
      'implied, then extended',
      ['admin'],
      'mcp:tools:echo',
      { separators: [':'], implies: new Map([['admin', ['mcp:tools']]]) },
      true,
    ],
    [
      'implication is not reversed',
      ['mcp:tools'],
      'admin',
      { separators: [':'], implies: new Map([['admin', ['mcp:tools']]]) },
      false,
    ],
    ['an empty granted scope list', [], 'a', colon, false],
  ])('%s', (_name, granted, required, h, want) => {
    expect(covers(effectiveScopes(granted, h), required, h)).toBe(want);
    expect(missingScopes([required], granted, h)).toEqual(want ? [] : [required]);
  });

  it('implies is closed transitively at parse', () => {
    const p = policyOf({
      mcp_policy: { scope_hierarchy: { implies: { root: 'admin', admin: 'mcp:tools' } } },
    });
    expect(covers(effectiveScopes(['root'], p.hierarchy), 'mcp:tools:echo', p.hierarchy)).toBe(true);
  });

  it('without a hierarchy, missingScopes is plain set difference (the global check before)', () => {
    expect(missingScopes(['a:b', 'c'], ['a'])).toEqual(['a:b', 'c']);
  });
});

describe('name folding (names.ts)', () => {
  it.each([
    ['Tools/call', 'tools/call'],
    ['TOOLS/CALL', 'tools/call'],
    ['tools/call ', 'tools/call'],
    ['tools/\u200bcall', 'tools/call'],
    ['ｔｏｏｌｓ/ｃａｌｌ', 'tools/call'],
    ['ECHO_TOOL', 'echo_tool'],
    ['ｅｃｈｏ_ｔｏｏｌ', 'echo_tool'],
    ['echo\u00adtool', 'echotool'],
    ['ſtrasse', 'strasse'],
    ['STRASSE', 'straße'.toUpperCase().toLowerCase()],
    ['\u212aelvin', 'kelvin'],
    ['e\u0301cho', '\u00e9cho'],
  ])('%j folds like %j', (a, b) => {
    expect(fold(a)).toBe(fold(b));
  });

  it.each([
    ['еcho_tool', 'echo_tool'], // Cyrillic е: no lookup turns it into Latin e
    ['echo-tool', 'echo_tool'],
    ['tools/call', 'tools/calls'],
  ])('%j and %j stay different', (a, b) => {
    expect(fold(a)).not.toBe(fold(b));
  });

  it.each([
    ['file:///etc/%70asswd', 'file:///etc/passwd'],
    ['file:///etc/%2570asswd', 'file:///etc/passwd'],
    ['file:///etc/./x/../passwd', 'file:///etc/passwd'],
    ['FILE:///ETC/PASSWD', 'file:///etc/passwd'],
    ['file:///etc/%zz', 'file:///etc/%zz'],
  ])('resource %j folds like %j', (a, b) => {
    expect(foldUri(a)).toBe(foldUri(b));
  });
});

describe('decideBody', () => {
  const original = policyOf(ORIGINAL);
  it.each<[string, ReturnType<typeof policyOf>, ParsedBody, string[], boolean, string[]]>([
    ['initialize with mcp_init', original, one(req('initialize', {})), ['mcp_init'], true, ['mcp_init']],
    ['initialize without mcp_init', original, one(req('initialize', {})), [], false, ['mcp_init']],
    ['a method no rule names', original, one(req('tools/list')), [], true, []],
    [
      'echo_tool with its scope',
      original,
      one(call('echo_tool')),
      ['mcp_echo_tool'],
      true,
      ['mcp_echo_tool'],
    ],
    ['echo_tool without its scope', original, one(call('echo_tool')), ['mcp_init'], false, ['mcp_echo_tool']],
    ['an unlisted tool (unlisted: allow)', original, one(call('other')), [], true, []],
    ['ECHO_TOOL needs echo_tool’s scope', original, one(call('ECHO_TOOL')), [], false, ['mcp_echo_tool']],
    [
      'fullwidth ｅｃｈｏ_ｔｏｏｌ needs it too',
      original,
      one(call('ｅｃｈｏ_ｔｏｏｌ')),
      [],
      false,
      ['mcp_echo_tool'],
    ],
    [
      'echo_tool with a zero-width space needs it too',
      original,
      one(call('echo\u200b_tool')),
      [],
      false,
      ['mcp_echo_tool'],
    ],
    ['Cyrillic еcho_tool is another (unlisted) name', original, one(call('еcho_tool')), [], true, []],
    [
      'Tools/call names echo_tool too',
      original,
      one(req('Tools/call', { name: 'echo_tool' })),
      [],
      false,
      ['mcp_echo_tool'],
    ],
    ['INITIALIZE needs mcp_init', original, one(req('INITIALIZE', {})), [], false, ['mcp_init']],
    ['a response needs nothing', original, one({ kind: 'response', id: 3 }), [], true, []],
    [
      'a notification by its method',
      original,
      one({ kind: 'notification', method: 'initialize' }),
      [],
      false,
      ['mcp_init'],
    ],
    [
      'a batch: all or nothing, every scope in one challenge',
      original,
      batch(req('initialize', {}, 1), call('echo_tool', 2)),
      ['mcp_init'],
      false,
      ['mcp_init', 'mcp_echo_tool'],
    ],
    [
      'a batch of allowed calls',
      original,
      batch(call('other', 1), call('echo_tool', 2), { kind: 'response', id: 'x' }),
      ['mcp_echo_tool'],
      true,
      ['mcp_echo_tool'],
    ],
  ])('%s', (_name, p, body, granted, allowed, needed) => {
    const d = decideBody(p, body, granted);
    expect(d.allowed).toBe(allowed);
    expect(d.needed).toEqual(needed);
    expect(d.missing).toEqual(needed.filter((s) => !granted.includes(s)));
  });

  it('the global scopes come first in what the body needs', () => {
    const p = policyOf({ ...ORIGINAL, token: { required_scopes: ['mcp'] } });
    expect(decideBody(p, one(call('echo_tool')), ['mcp']).needed).toEqual(['mcp', 'mcp_echo_tool']);
  });

  it('the hierarchy applies to per-tool scopes', () => {
    const p = policyOf({ mcp_policy: { tools: { echo: 'mcp:tools:echo' } } });
    expect(decideBody(p, one(call('echo')), ['mcp:tools']).allowed).toBe(true);
    expect(decideBody(p, one(call('echo')), ['mcp:tool']).allowed).toBe(false);
    expect(decideBody(p, one(call('echo')), ['mcp:tools:echo:x']).allowed).toBe(false);
  });

  describe('unlisted: deny', () => {
    const p = policyOf({ mcp_policy: { tools: { echo: 's' }, unlisted: 'deny' } });
    it.each<[string, ParsedBody, string[], boolean, string | undefined]>([
      ['a listed tool with its scope', one(call('echo')), ['s'], true, undefined],
      ['an unlisted tool, whatever the scopes', one(call('other')), ['s', 'x'], false, 'unlisted'],
      ['a case variant of a listed tool is unlisted', one(call('Echo')), ['s'], false, 'unlisted'],
      ['an NFKC variant is unlisted', one(call('ｅｃｈｏ')), ['s'], false, 'unlisted'],
      ['a prompt no rule names', one(req('prompts/get', { name: 'x' })), ['s'], false, 'unlisted'],
      [
        'a resource no rule names',
        one(req('resources/read', { uri: 'file:///x' })),
        ['s'],
        false,
        'unlisted',
      ],
      [
        'a subscription to one',
        one(req('resources/subscribe', { uri: 'file:///x' })),
        ['s'],
        false,
        'unlisted',
      ],
      ['tools/list is no named method', one(req('tools/list')), [], true, undefined],
    ])('%s', (_name, body, granted, allowed, refused) => {
      const d = decideBody(p, body, granted);
      expect(d.allowed).toBe(allowed);
      expect(d.messages[0]!.refused).toBe(refused);
    });
  });

  it.each([
    ['no name', { arguments: {} }],
    ['a name that is a list', { name: ['echo_tool'] }],
    ['a name that is an object', { name: { toString: 'echo_tool' } }],
    ['a name that is a number', { name: 1 }],
  ])('a named method with %s is refused (an upstream might coerce it)', (_n, params) => {
    const d = decideBody(original, one(req('tools/call', params)), ['mcp_echo_tool', 'mcp_init']);
    expect(d.allowed).toBe(false);
    expect(d.messages[0]!.refused).toBe('no-name');
  });

  it('a named method without a name is left to the upstream when no rule of its kind exists', () => {
    const p = policyOf({ mcp_policy: { prompts: { p: 's' } } });
    expect(decideBody(p, one(req('tools/call')), []).allowed).toBe(true);
    expect(decideBody(p, one(req('prompts/get', {})), ['s']).messages[0]!.refused).toBe('no-name');
    const deny = policyOf({ mcp_policy: { unlisted: 'deny' } });
    expect(decideBody(deny, one(req('tools/call')), []).messages[0]!.refused).toBe('no-name');
  });

  it('resources are ruled by params.uri, with folded look-alikes', () => {
    const p = policyOf({ mcp_policy: { resources: { 'file:///etc/passwd': 'r' } } });
    for (const uri of [
      'file:///etc/passwd',
      'file:///etc/%70asswd',
      'file:///etc/../etc/passwd',
      'FILE:///etc/passwd',
    ]) {
      expect(decideBody(p, one(req('resources/read', { uri })), []).missing, uri).toEqual(['r']);
    }
    expect(decideBody(p, one(req('resources/read', { uri: 'file:///etc/hosts' })), []).allowed).toBe(true);
  });

  it('completion/complete needs the scopes of the prompt or resource its ref names', () => {
    const p = policyOf({
      mcp_policy: { prompts: { secret_prompt: 'p' }, resources: { 'file:///secret': 'r' } },
    });
    const complete = (ref: unknown) =>
      decideBody(p, one(req('completion/complete', { ref, argument: { name: 'a', value: '' } })), []);
    expect(complete({ type: 'ref/prompt', name: 'secret_prompt' }).missing).toEqual(['p']);
    expect(complete({ type: 'ref/resource', uri: 'file:///secret' }).missing).toEqual(['r']);
    expect(complete({ type: 'ref/prompt', name: 'other' }).allowed).toBe(true);
    // Without a name it can be matched against, it is refused where rules of the kind exist.
    expect(complete({ type: 'ref/prompt' }).messages[0]!.refused).toBe('no-name');
    expect(complete(undefined).messages[0]!.refused).toBe('no-name');
    const deny = policyOf({ mcp_policy: { prompts: { listed: 'p' }, unlisted: 'deny' } });
    const unlisted = one(req('completion/complete', { ref: { type: 'ref/prompt', name: 'secret_prompt' } }));
    expect(decideBody(deny, unlisted, ['p']).messages[0]!.refused).toBe('unlisted');
  });
});

describe('policyView and listingFilter', () => {
  const p = policyOf({
    mcp_policy: { methods: { 'prompts/get': 'p' }, tools: { echo: 'mcp:tools:echo', admin: 'admin' } },
  });
  it('allows what a call would be allowed', () => {
    const v = policyView(p, ['mcp:tools']);
    expect(v.allows('tool', 'echo')).toBe(true);
    expect(v.allows('tool', 'admin')).toBe(false);
    expect(v.allows('tool', 'ADMIN')).toBe(false);
    expect(v.allows('tool', 'other')).toBe(true);
    expect(v.allows('prompt', 'any')).toBe(false); // prompts/get needs p
    expect(policyView(p, ['p']).allows('prompt', 'any')).toBe(true);
  });

  it('unlisted: deny hides every name not listed exactly', () => {
    const d = policyOf({ mcp_policy: { tools: { echo: 's' }, unlisted: 'deny' } });
    const v = policyView(d, ['s']);
    expect([v.allows('tool', 'echo'), v.allows('tool', 'Echo'), v.allows('resource', 'file:///x')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('knows which ids answer a listing, by fold and by the id’s text', () => {
    const f = listingFilter(
      p,
      batch(req('tools/list', {}, 1), req('Prompts/List', {}, 'b'), call('echo', 3), {
        kind: 'response',
        id: 4,
      }),
      [],
    )!;
    expect([
      f.methodOf(1),
      f.methodOf('1'),
      f.methodOf('b'),
      f.methodOf(3),
      f.methodOf(4),
      f.methodOf(null),
    ]).toEqual(['tools/list', 'tools/list', 'prompts/list', undefined, undefined, undefined]);
    expect(f.view.allows('tool', 'admin')).toBe(false);
  });

  it('is undefined when nothing could be hidden or nothing is listed', () => {
    expect(listingFilter(policyOf(), one(req('tools/list')), [])).toBeUndefined();
    expect(
      listingFilter(policyOf({ mcp_policy: { methods: { initialize: 'i' } } }), one(req('tools/list')), []),
    ).toBeUndefined();
    expect(listingFilter(p, one(call('echo')), [])).toBeUndefined();
    expect(
      listingFilter(policyOf({ mcp_policy: { methods: { 'tools/call': 't' } } }), one(req('tools/list')), []),
    ).toBeDefined();
  });
});

describe('authorizeBody: the refusal and the audit line', () => {
  const identity: Identity = {
    subject: 'alice',
    clientId: 'client-1',
    scopes: ['mcp_init'],
    issuer: 'https://i',
    claims: { secret: 'never-logged' },
  };
  const run = (p: ReturnType<typeof policyOf>, body: ParsedBody) => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('proxy', 'debug', (l) => lines.push(JSON.parse(l)));
    let err: OAuthError | undefined;
    try {
      authorizeBody(p, body, identity, { resourceMetadata: 'https://p/prm', log, requestId: 'r1' });
    } catch (e) {
      err = e as OAuthError;
    }
    return { err, lines: lines.map(({ timestamp: _t, coldStart: _c, ...l }) => l) };
  };
  const p = policyOf({ ...ORIGINAL, token: { required_scopes: ['mcp_init'] } });

  it('403 insufficient_scope naming the global and the tool scopes; one deny line per message', async () => {
    const { err, lines } = run(p, batch(req('initialize', { secret: 'x' }, 1), call('echo_tool', 2)));
    const res = errorResponse(err!);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp_init mcp_echo_tool", resource_metadata="https://p/prm"',
    );
    expect(lines).toEqual([
      {
        level: 'INFO',
        component: 'proxy',
        message: 'mcp authorization',
        requestId: 'r1',
        sub: 'alice',
        clientId: 'client-1',
        batchIndex: 0,
        method: 'initialize',
        decision: 'deny',
        reason: 'body refused: missing scopes: mcp_echo_tool',
      },
      {
        level: 'INFO',
        component: 'proxy',
        message: 'mcp authorization',
        requestId: 'r1',
        sub: 'alice',
        clientId: 'client-1',
        batchIndex: 1,
        method: 'tools/call',
        tool: 'echo_tool',
        decision: 'deny',
        reason: 'missing scopes: mcp_echo_tool',
      },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/secret|never-logged|arguments/);
  });

  it('an allowed message: one allow line', () => {
    const { err, lines } = run(p, one(call('other')));
    expect(err).toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({
        method: 'tools/call',
        tool: 'other',
        decision: 'allow',
        reason: 'no scope needed',
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('batchIndex');
  });

  it('long hostile names are cut in the log', () => {
    const { lines } = run(p, one(call(`x${'y'.repeat(5000)}`)));
    expect((lines[0]!.tool as string).length).toBe(201);
  });

  it('unlisted: deny → 403 forbidden without a challenge (no scope would help)', async () => {
    const d = policyOf({ mcp_policy: { tools: { echo: 's' }, unlisted: 'deny' } });
    const { err, lines } = run(d, one(call('rm')));
    const res = errorResponse(err!);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({
      error: 'forbidden',
      error_description: 'this tool is not available through this proxy',
    });
    expect(lines[0]).toMatchObject({
      decision: 'deny',
      reason: 'tool not listed in the policy (unlisted: deny)',
    });
  });

  it('no string name → 400 with a JSON-RPC error carrying the id', async () => {
    const { err } = run(p, one(req('tools/call', { name: 7 }, 9)));
    const res = errorResponse(err!);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: { code: -32602, message: 'Invalid params: name must be a string' },
    });
  });
});
