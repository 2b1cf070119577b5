/**
 * The session-id wrapper (functions/proxy/mcp/session-id.ts): tables for wrap/unwrap, the query
 * mapping and the request binding, and fast-check properties (roundtrip for any id and owner; any
 * single-character alteration refused; another subject, issuer or key refused).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bindSession,
  isSessionParam,
  MAX_UPSTREAM_ID_CHARS,
  mapSessionParams,
  unwrapSessionId,
  wrapSessionId,
} from '../../functions/proxy/mcp/session-id.ts';
import { deriveProxyKeys } from '../../functions/proxy/proxy-keys.ts';
import { OAuthError } from '../../functions/shared/errors.ts';
import { seal } from '../../functions/shared/seal.ts';

const KEY = deriveProxyKeys('s'.repeat(40)).session;
const OTHER_KEY = deriveProxyKeys('t'.repeat(40)).session;
const ALICE = { issuer: 'https://idp.example', subject: 'alice' };
const BOB = { issuer: 'https://idp.example', subject: 'bob' };
const UUID = '3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c';

const visibleAscii = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 200,
});
const owner = fc.record({ issuer: fc.string(), subject: fc.string() });

describe('wrapSessionId / unwrapSessionId', () => {
  const wrapped = wrapSessionId(KEY, ALICE, UUID)!;

  it('wraps into visible ASCII that needs no encoding in a query string', () => {
    expect(wrapped).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(wrapped)).toBe(wrapped);
    expect(wrapped).not.toContain(UUID); // the raw id is not a substring a client could cut out
  });

  it('is deterministic: the same id for the same owner and upstream id', () => {
    expect(wrapSessionId(KEY, ALICE, UUID)).toBe(wrapped);
  });

  it.each([
    ['the owner', KEY, ALICE, wrapped, UUID],
    ['another subject', KEY, BOB, wrapped, undefined],
    ['another issuer', KEY, { issuer: 'https://other.example', subject: 'alice' }, wrapped, undefined],
    [
      'issuer/subject split elsewhere',
      KEY,
      { issuer: 'https://idp.example"', subject: ',"alice' },
      wrapped,
      undefined,
    ],
    ['another deployment (key)', OTHER_KEY, ALICE, wrapped, undefined],
    ['the raw upstream id', KEY, ALICE, UUID, undefined],
    ['empty', KEY, ALICE, '', undefined],
    ['a MAC of another length', KEY, ALICE, `${wrapped}A`, undefined],
    ['the MAC alone', KEY, ALICE, wrapped.split('.')[1]!, undefined],
    ['a value sealed for another purpose', KEY, ALICE, seal(KEY, 'relay', { s: UUID }), undefined],
    ['too long', KEY, ALICE, `${'A'.repeat(5000)}.${'A'.repeat(43)}`, undefined],
  ] as const)('opens for %s: %s', (_n, key, who, value, want) => {
    expect(unwrapSessionId(key, who, value)).toBe(want);
  });

  it.each([
    ['a space', 'a b'],
    ['a control character', 'a\u0001b'],
    ['non-ASCII', 'séance'],
    ['empty', ''],
    ['over the length bound', 'a'.repeat(MAX_UPSTREAM_ID_CHARS + 1)],
  ])('refuses to wrap an upstream id with %s', (_n, id) => {
    expect(wrapSessionId(KEY, ALICE, id)).toBeUndefined();
  });

  it('wraps an upstream id of the maximum length, of JSON-escaped characters only', () => {
    const id = '"\\'.repeat(MAX_UPSTREAM_ID_CHARS / 2);
    expect(unwrapSessionId(KEY, ALICE, wrapSessionId(KEY, ALICE, id)!)).toBe(id);
  });
});

describe('properties', () => {
  it('roundtrip: any visible-ASCII id for any owner opens for that owner', () => {
    fc.assert(
      fc.property(visibleAscii, owner, (id, who) => {
        const w = wrapSessionId(KEY, who, id)!;
        return /^[\x21-\x7e]+$/.test(w) && unwrapSessionId(KEY, who, w) === id;
      }),
    );
  });

  it('any single-character alteration is refused', () => {
    fc.assert(
      fc.property(visibleAscii, owner, fc.nat(), fc.integer({ min: 0x21, max: 0x7e }), (id, who, at, c) => {
        const w = wrapSessionId(KEY, who, id)!;
        const i = at % w.length;
        const ch = String.fromCharCode(c);
        fc.pre(ch !== w[i]);
        const altered = w.slice(0, i) + ch + w.slice(i + 1);
        return unwrapSessionId(KEY, who, altered) === undefined;
      }),
      { numRuns: 500 },
    );
  });

  it('another subject (or issuer) never opens it', () => {
    fc.assert(
      fc.property(visibleAscii, owner, owner, (id, a, b) => {
        fc.pre(a.issuer !== b.issuer || a.subject !== b.subject);
        return unwrapSessionId(KEY, b, wrapSessionId(KEY, a, id)!) === undefined;
      }),
    );
  });
});

describe('session query parameters', () => {
  it.each([
    ['sessionId', true],
    ['session_id', true],
    ['SessionID', true],
    ['SESSION-ID', true],
    ['session__id', true],
    // How qs (Express's extended parser) and PHP read these: the value of `sessionId` / `session_id`.
    ['sessionId[]', true],
    ['sessionId[0]', true],
    ['session.id', true],
    ['session id', true],
    ['a[sessionId]', false],
    ['sessions', false],
    ['id', false],
    ['xsessionid', false],
  ])('%s is a session parameter: %s', (name, want) => {
    expect(isSessionParam(name)).toBe(want);
  });

  const up = (v: string) => `<${v}>`;
  it.each([
    ['', ''],
    ['?', '?'],
    ['?a=1&b=2', '?a=1&b=2'],
    ['?sessionId=x', '?sessionId=%3Cx%3E'],
    ['?a=%2F&session_id=x&b=c+d', '?a=%2F&session_id=%3Cx%3E&b=c+d'],
    ['?a=1;sessionId=x', '?a=1;sessionId=%3Cx%3E'],
    ['?session%49d=x', '?session%49d=%3Cx%3E'],
    ['?sessionId', '?sessionId=%3C%3E'],
    ['?sessionId=a&sessionId=b', '?sessionId=%3Ca%3E&sessionId=%3Cb%3E'],
  ])('maps %s to %s', (search, want) => {
    expect(mapSessionParams(search, up)).toBe(want);
  });

  it('refuses when one value is refused or not valid percent-encoding', () => {
    const only = (v: string) => (v === 'ok' ? 'raw' : undefined);
    expect(mapSessionParams('?sessionId=ok&session_id=bad', only)).toBeUndefined();
    expect(mapSessionParams('?sessionId=%E0%A4%A', up)).toBeUndefined();
  });
});

describe('bindSession', () => {
  const wrapped = wrapSessionId(KEY, ALICE, UUID)!;
  const bind = (headers: Record<string, string>, search = '') =>
    bindSession(KEY, ALICE, { headers: new Headers(headers) }, search);
  const status = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof OAuthError ? [e.status, e.jsonRpc?.code] : e;
    }
    return 'no error';
  };

  it('leaves a request without a session id untouched', () => {
    const b = bind({ accept: 'application/json' }, '?a=1');
    const out: Record<string, string> = { accept: 'application/json' };
    b.unwrapHeaders(out);
    expect(b.search).toBe('?a=1');
    expect(out).toEqual({ accept: 'application/json' });
  });

  it('unwraps the header and every spelling an upstream may fold into it', () => {
    const b = bind({ 'mcp-session-id': wrapped, mcp_session_id: wrapped });
    const out: Record<string, string> = { 'mcp-session-id': wrapped, mcp_session_id: wrapped };
    b.unwrapHeaders(out);
    expect(out).toEqual({ 'mcp-session-id': UUID, mcp_session_id: UUID });
  });

  it.each([
    ['the raw id', { 'mcp-session-id': UUID }, ''],
    ["bob's id", { 'mcp-session-id': wrapSessionId(KEY, BOB, UUID)! }, ''],
    ['a raw id under another spelling', { 'mcp-session-id': wrapped, MCP_SESSION_ID: UUID }, ''],
    ['two ids in one header', { 'mcp-session-id': `${wrapped}, ${wrapped}` }, ''],
    ['the raw id in the query', {}, `?sessionId=${UUID}`],
    ['an altered id in the query', {}, `?session_id=${wrapped.slice(0, -1)}B`],
  ])('refuses %s with 404 and -32001', (_n, headers, search) => {
    expect(status(() => bind(headers, search))).toEqual([404, -32001]);
  });

  it('wraps the response header, and drops one it cannot wrap', () => {
    const b = bind({});
    const h = new Headers({ 'mcp-session-id': UUID });
    expect(b.wrapResponse(h)).toBe(true);
    expect(h.get('mcp-session-id')).toBe(wrapped);
    const bad = new Headers({ 'mcp-session-id': 'a b' });
    expect(b.wrapResponse(bad)).toBe(false);
    expect(bad.has('mcp-session-id')).toBe(false);
    expect(b.wrapResponse(new Headers())).toBe(true);
  });

  it('wraps the session parameter of a legacy endpoint URL', () => {
    const b = bind({});
    expect(b.wrapEndpoint(`https://proxy.example/messages?sessionId=${UUID}&x=1`)).toBe(
      `https://proxy.example/messages?sessionId=${wrapped}&x=1`,
    );
    expect(b.wrapEndpoint('https://proxy.example/messages/?session_id=a%20b')).toBeUndefined();
  });
});
