/** 2026-07-28 request metadata headers against the parsed body (functions/proxy/mcp/transport-headers.ts). */
import { describe, expect, it } from 'vitest';
import { upstreamRequestHeaders } from '../../functions/proxy/headers.ts';
import { parseMcpBody } from '../../functions/proxy/mcp/jsonrpc.ts';
import { checkTransportHeaders, decodeHeaderValue } from '../../functions/proxy/mcp/transport-headers.ts';
import { OAuthError } from '../../functions/shared/errors.ts';

const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;
const msg = (method: string, params?: Record<string, unknown>, id: number | null = 1) =>
  JSON.stringify({ jsonrpc: '2.0', ...(id === null ? {} : { id }), method, ...(params ? { params } : {}) });
const META = (v: string) => ({ _meta: { 'io.modelcontextprotocol/protocolVersion': v } });

const CALL = msg('tools/call', { name: 'get_weather', arguments: {} });
const READ = msg('resources/read', { uri: 'file:///projects/app/config.json' });
const PROMPT = msg('prompts/get', { name: 'greet' });
const BATCH = `[${msg('ping')},${msg('tools/list', undefined, 2)}]`;

/** The JSON-RPC id and code of the refusal, or 'ok'. */
function check(body: string, headers: Record<string, string>): 'ok' | { id: unknown; code: number } {
  try {
    checkTransportHeaders(new Headers(headers), parseMcpBody(new TextEncoder().encode(body)));
    return 'ok';
  } catch (e) {
    if (!(e instanceof OAuthError) || !e.jsonRpc) throw e;
    expect(e.status).toBe(400);
    return { id: e.jsonRpc.id, code: e.jsonRpc.code };
  }
}

const MISMATCH = (id: unknown) => ({ id, code: -32020 });
const V = { 'mcp-protocol-version': '2026-07-28' };

describe('checkTransportHeaders', () => {
  const cases: [string, string, Record<string, string>, 'ok' | { id: unknown; code: number }][] = [
    ['no headers, older version', CALL, { 'mcp-protocol-version': '2025-11-25' }, 'ok'],
    ['no headers, no version', CALL, {}, 'ok'],
    [
      '2026-07-28 tools/call with both',
      CALL,
      { ...V, 'mcp-method': 'tools/call', 'mcp-name': 'get_weather' },
      'ok',
    ],
    [
      '2026-07-28 resources/read with the URI',
      READ,
      { ...V, 'mcp-method': 'resources/read', 'mcp-name': 'file:///projects/app/config.json' },
      'ok',
    ],
    ['2026-07-28 prompts/get', PROMPT, { ...V, 'mcp-method': 'prompts/get', 'mcp-name': 'greet' }, 'ok'],
    ['2026-07-28 ping needs only Mcp-Method', msg('ping'), { ...V, 'mcp-method': 'ping' }, 'ok'],
    [
      'base64 sentinel name',
      msg('tools/call', { name: 'wetter_für_köln' }),
      { ...V, 'mcp-method': 'tools/call', 'mcp-name': b64('wetter_für_köln') },
      'ok',
    ],
    [
      'a plain name that looks like the sentinel is sent encoded',
      msg('tools/call', { name: '=?base64?x?=' }),
      { 'mcp-name': b64('=?base64?x?=') },
      'ok',
    ],
    [
      'a notification with its method',
      msg('notifications/initialized', undefined, null),
      { ...V, 'mcp-method': 'notifications/initialized' },
      'ok',
    ],
    [
      'a notification without headers under 2026-07-28',
      msg('notifications/initialized', undefined, null),
      V,
      'ok',
    ],
    [
      '_meta version equal to the header',
      msg('tools/list', META('2026-07-28')),
      { ...V, 'mcp-method': 'tools/list' },
      'ok',
    ],
    ['a batch without headers', BATCH, { 'mcp-protocol-version': '2025-03-26' }, 'ok'],
    [
      'Mcp-Method other than the body, old version',
      CALL,
      { 'mcp-protocol-version': '2025-06-18', 'mcp-method': 'tools/list' },
      MISMATCH(1),
    ],
    ['Mcp-Method other than the body, no version', CALL, { 'mcp-method': 'ping' }, MISMATCH(1)],
    ['Mcp-Method in another case', CALL, { 'mcp-method': 'Tools/Call' }, MISMATCH(1)],
    [
      'Mcp-Name other than the tool',
      CALL,
      { ...V, 'mcp-method': 'tools/call', 'mcp-name': 'harmless' },
      MISMATCH(1),
    ],
    ['Mcp-Name other than the URI', READ, { 'mcp-name': 'file:///public.txt' }, MISMATCH(1)],
    ['Mcp-Name on a method without a name', msg('tools/list'), { 'mcp-name': 'x' }, MISMATCH(1)],
    [
      'Mcp-Name on resources/subscribe (not mirrored)',
      msg('resources/subscribe', { uri: 'a:b' }),
      { 'mcp-name': 'a:b' },
      MISMATCH(1),
    ],
    ['Mcp-Name base64 of another name', CALL, { 'mcp-name': b64('harmless') }, MISMATCH(1)],
    ['Mcp-Name broken base64', CALL, { 'mcp-name': '=?base64?!!!?=' }, MISMATCH(1)],
    [
      'Mcp-Name base64 with non-canonical padding bits',
      msg('tools/call', { name: 'a' }),
      { 'mcp-name': '=?base64?YR==?=' },
      MISMATCH(1),
    ],
    ['Mcp-Name base64 of invalid UTF-8', CALL, { 'mcp-name': '=?base64?wyg=?=' }, MISMATCH(1)],
    [
      'Mcp-Method on a response',
      '{"jsonrpc":"2.0","id":5,"result":{}}',
      { 'mcp-method': 'ping' },
      MISMATCH(5),
    ],
    ['Mcp-Method on a batch', BATCH, { 'mcp-method': 'ping' }, MISMATCH(null)],
    ['a batch under 2026-07-28', BATCH, V, MISMATCH(null)],
    ['2026-07-28 request without Mcp-Method', CALL, { ...V, 'mcp-name': 'get_weather' }, MISMATCH(1)],
    ['2026-07-28 tools/call without Mcp-Name', CALL, { ...V, 'mcp-method': 'tools/call' }, MISMATCH(1)],
    ['a later version without the headers', CALL, { 'mcp-protocol-version': '2027-01-01' }, MISMATCH(1)],
    [
      '_meta version without the header',
      msg('tools/list', META('2026-07-28')),
      { 'mcp-method': 'tools/list' },
      MISMATCH(1),
    ],
    [
      '_meta version other than the header',
      msg('tools/list', META('2026-07-28')),
      { 'mcp-protocol-version': '2025-11-25' },
      MISMATCH(1),
    ],
    ['_meta version in a batch element', `[${msg('tools/list', META('2026-07-28'), 3)}]`, {}, MISMATCH(3)],
    [
      'two Mcp-Method headers (joined by Headers)',
      CALL,
      { 'mcp-method': 'tools/call, tools/call' },
      MISMATCH(1),
    ],
  ];
  it.each(cases)('%s', (_name, body, headers, want) => {
    expect(check(body, headers)).toEqual(want);
  });

  it('a header value with characters outside visible ASCII is malformed', () => {
    expect(decodeHeaderValue('caf\u00e9')).toBeUndefined();
    expect(decodeHeaderValue('a\u0000b')).toBeUndefined();
    expect(decodeHeaderValue('get_weather')).toBe('get_weather');
    expect(decodeHeaderValue(b64(' padded '))).toBe(' padded ');
  });
});

describe('Mcp-Param-* headers', () => {
  it('are forwarded upstream unchanged', () => {
    const out = upstreamRequestHeaders(
      new Headers({
        'Mcp-Param-Region': 'us-west1',
        'mcp-param-greeting': b64('Hello, 世界'),
        'Mcp-Method': 'tools/call',
      }),
      {
        identity: { subject: 'alice', issuer: 'https://idp', scopes: [], claims: {} },
        identityPrefix: 'x-mcp-auth-',
        publicOrigin: 'https://proxy.example',
      },
    );
    expect(out['mcp-param-region']).toBe('us-west1');
    expect(out['mcp-param-greeting']).toBe(b64('Hello, 世界'));
    expect(out['mcp-method']).toBe('tools/call');
  });
});
