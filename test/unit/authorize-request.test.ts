/**
 * The authorization request (functions/discovery/authorize.ts) with the exact refusal a user
 * sees, each limit at its boundary, and the URL sent on to the IdP.
 */
import { describe, expect, it } from 'vitest';
import { idpAuthorizeUrl, validateAuthorizeRequest } from '../../functions/discovery/authorize.ts';
import { OAuthError } from '../../functions/shared/errors.ts';

const base: Record<string, string> = {
  response_type: 'code',
  client_id: 'c1',
  redirect_uri: 'http://127.0.0.1:5000/cb',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
};
const run = (over: Record<string, string | undefined>, extra = '', hosts?: string[]) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...base, ...over })) if (v !== undefined) p.append(k, v);
  for (const [k, v] of new URLSearchParams(extra)) p.append(k, v);
  try {
    return validateAuthorizeRequest(p, [], hosts);
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    return `${e.status} ${e.code}: ${e.description}${e.reason ? ` | ${e.reason}` : ''}`;
  }
};
const ir = (d: string) => `400 invalid_request: ${d} | authorize refused: ${d}`;
const pad = (n: number) => Array.from({ length: n }, (_, i) => `x${i}=1`).join('&');

describe('validateAuthorizeRequest refusals', () => {
  it.each<[string, Record<string, string | undefined>, string, string]>([
    ['51 parameters', {}, pad(46), ir('too many parameters')],
    [
      'a repeated state',
      { state: 's' },
      'state=t',
      '400 invalid_request: a parameter is repeated | authorize refused: parameter state is repeated',
    ],
    [
      'a repeated long name, cut in the log',
      {},
      `${'k'.repeat(150)}=1&${'k'.repeat(150)}=2`,
      `400 invalid_request: a parameter is repeated | authorize refused: parameter ${'k'.repeat(100)} is repeated`,
    ],
    ['no client_id', { client_id: undefined }, '', ir('client_id is required')],
    ['an empty client_id', { client_id: '' }, '', ir('client_id is required')],
    ['a client_id over 4096', { client_id: 'c'.repeat(4097) }, '', ir('client_id is too long')],
    ['no redirect_uri', { redirect_uri: undefined }, '', ir('redirect_uri is required')],
    ['an empty redirect_uri', { redirect_uri: '' }, '', ir('redirect_uri is required')],
    [
      'an https redirect off the list',
      { redirect_uri: 'https://evil.example/cb' },
      '',
      ir(
        'invalid redirect_uri: https redirect URIs must be on a host listed in discovery.allowed_redirect_hosts ("evil.example" is not)',
      ),
    ],
    ['no response_type', { response_type: undefined }, '', ir('response_type is required')],
    [
      'response_type token',
      { response_type: 'token' },
      '',
      '400 unsupported_response_type: only response_type=code is supported | authorize refused: only response_type=code is supported',
    ],
    [
      'no code_challenge',
      { code_challenge: undefined },
      '',
      ir('code_challenge is required (PKCE with S256)'),
    ],
    [
      'a 42-character code_challenge',
      { code_challenge: 'a'.repeat(42) },
      '',
      ir('code_challenge is malformed'),
    ],
    [
      'a 129-character code_challenge',
      { code_challenge: 'a'.repeat(129) },
      '',
      ir('code_challenge is malformed'),
    ],
    [
      'junk before a code_challenge',
      { code_challenge: `!${'a'.repeat(43)}` },
      '',
      ir('code_challenge is malformed'),
    ],
    [
      'junk after a code_challenge',
      { code_challenge: `${'a'.repeat(43)}!` },
      '',
      ir('code_challenge is malformed'),
    ],
    [
      'a code_challenge with a space',
      { code_challenge: `${'a'.repeat(21)} ${'a'.repeat(21)}` },
      '',
      ir('code_challenge is malformed'),
    ],
    ['method plain', { code_challenge_method: 'plain' }, '', ir('code_challenge_method must be S256')],
    [
      'method s256 (case matters)',
      { code_challenge_method: 's256' },
      '',
      ir('code_challenge_method must be S256'),
    ],
    ['response_mode fragment', {}, 'response_mode=fragment', ir('only response_mode=query is supported')],
    ['an empty response_mode', {}, 'response_mode=', ir('only response_mode=query is supported')],
    ['a state over 1024', { state: 's'.repeat(1025) }, '', ir('state is too long')],
    ['a state with a newline', { state: 'a\nb' }, '', ir('state contains control characters')],
    ['a state with DEL', { state: 'a\u007f' }, '', ir('state contains control characters')],
    ['a nonce over 512', { nonce: 'n'.repeat(513) }, '', ir('nonce is too long')],
    ['a nonce with a control character', { nonce: 'a\u0001' }, '', ir('nonce contains control characters')],
    ['a prompt over 512', { prompt: 'p'.repeat(513) }, '', ir('prompt is too long')],
    ['a prompt with a tab', { prompt: 'login\t' }, '', ir('prompt contains control characters')],
    ['a login_hint over 512', { login_hint: 'x'.repeat(513) }, '', ir('login_hint is too long')],
    ['a login_hint with a NUL', { login_hint: 'a\u0000' }, '', ir('login_hint contains control characters')],
    ['ui_locales over 512', { ui_locales: 'e'.repeat(513) }, '', ir('ui_locales is too long')],
    ['ui_locales with a CR', { ui_locales: 'en\r' }, '', ir('ui_locales contains control characters')],
    ['max_age with a unit', { max_age: '1h' }, '', ir('max_age must be a number of seconds')],
    ['max_age with junk in front', { max_age: 'a1' }, '', ir('max_age must be a number of seconds')],
    ['max_age negative', { max_age: '-1' }, '', ir('max_age must be a number of seconds')],
    ['max_age over 10 characters', { max_age: '12345678901' }, '', ir('max_age is too long')],
    [
      'a malformed scope',
      { scope: 'a"b' },
      '',
      '400 invalid_scope: scope is malformed | authorize refused: scope is malformed',
    ],
    [
      'a scope with two spaces',
      { scope: 'a  b' },
      '',
      '400 invalid_scope: scope is malformed | authorize refused: scope is malformed',
    ],
    ['a scope over 1000', { scope: 's'.repeat(1001) }, '', ir('scope is too long')],
    [
      'a relative resource',
      {},
      'resource=/mcp',
      '400 invalid_target: resource must be an absolute URI without a fragment | authorize refused: resource must be an absolute URI without a fragment',
    ],
    [
      'a resource with junk before its scheme',
      {},
      'resource=1https://a.example/mcp',
      '400 invalid_target: resource must be an absolute URI without a fragment | authorize refused: resource must be an absolute URI without a fragment',
    ],
    [
      'a resource with a space',
      {},
      `resource=${encodeURIComponent('https://a.example/m p')}`,
      '400 invalid_target: resource must be an absolute URI without a fragment | authorize refused: resource must be an absolute URI without a fragment',
    ],
    [
      'a resource over 2000',
      {},
      `resource=https://a.example/${'r'.repeat(1983)}`,
      '400 invalid_target: resource must be an absolute URI without a fragment | authorize refused: resource must be an absolute URI without a fragment',
    ],
  ])('%s', (_n, over, extra, want) => {
    expect(run(over, extra, ['app.example'])).toBe(want);
  });
});

describe('validateAuthorizeRequest acceptances', () => {
  it.each<[string, Record<string, string | undefined>, string]>([
    ['50 parameters', {}, pad(45)],
    ['a 128-character code_challenge', { code_challenge: `${'a'.repeat(124)}-._~` }, ''],
    ['a state of 1024', { state: 's'.repeat(1024) }, ''],
    ['an empty state (as if absent)', { state: '' }, ''],
    [
      'OIDC extras of 512',
      {
        nonce: 'n'.repeat(512),
        prompt: 'p'.repeat(512),
        login_hint: 'l'.repeat(512),
        ui_locales: 'u'.repeat(512),
      },
      '',
    ],
    ['max_age in seconds', { max_age: '3600' }, ''],
    ['an empty max_age and scope (as if absent)', { max_age: '', scope: '' }, ''],
    ['a scope of 1000', { scope: 's'.repeat(1000) }, ''],
    ['a resource of 2000', {}, `resource=https://a.example/${'r'.repeat(1982)}`],
    ['a repeated resource', {}, 'resource=https://a.example/mcp&resource=urn:x:y'],
  ])('%s', (_n, over, extra) => {
    expect(typeof run(over, extra)).toBe('object');
  });

  it('returns the request and only the allow-listed parameters, in order', () => {
    const r = run(
      {
        scope: 'mcp:tools',
        state: 's',
        nonce: 'n',
        prompt: 'login',
        login_hint: 'a',
        ui_locales: 'en',
        max_age: '0',
      },
      'resource=https://a.example/mcp&request_uri=https://evil.example/r&resource=https://b.example/mcp&x=1',
    );
    expect(r).toMatchObject({
      clientId: 'c1',
      redirectUri: 'http://127.0.0.1:5000/cb',
      scope: 'mcp:tools',
      resources: ['https://a.example/mcp', 'https://b.example/mcp'],
    });
    expect([...(r as { params: URLSearchParams }).params]).toEqual([
      ...Object.entries(base),
      ['scope', 'mcp:tools'],
      ['state', 's'],
      ['nonce', 'n'],
      ['prompt', 'login'],
      ['login_hint', 'a'],
      ['ui_locales', 'en'],
      ['max_age', '0'],
      ['resource', 'https://a.example/mcp'],
      ['resource', 'https://b.example/mcp'],
    ]);
  });

  it('allows any https redirect host when no list is given', () => {
    expect(run({ redirect_uri: 'https://any.example/cb' })).toMatchObject({
      redirectUri: 'https://any.example/cb',
    });
    expect(run({ redirect_uri: 'https://any.example/cb' }, '', ['app.example'])).toMatch(
      /^400 invalid_request: invalid redirect_uri/,
    );
  });
});

describe('idpAuthorizeUrl', () => {
  it.each<[string, string, string]>([
    [
      'https://idp.example/authorize',
      'client_id=c&scope=s',
      'https://idp.example/authorize?client_id=c&scope=s',
    ],
    [
      'https://idp.example/authorize?audience=api&x=1&x=2',
      'client_id=c&x=9&scope=s',
      'https://idp.example/authorize?client_id=c&scope=s&audience=api&x=1&x=2',
    ],
    ['https://idp.example/a?prompt=login', 'prompt=none', 'https://idp.example/a?prompt=login'],
  ])('%s with %s', (endpoint, params, want) => {
    expect(idpAuthorizeUrl(endpoint, new URLSearchParams(params))).toBe(want);
  });
});
