/**
 * The facade's pure validators, table by table, without any server: registration (RFC 7591),
 * the authorization request (RFC 6749 / 7636 / 8707) and the token request. The end-to-end
 * tests keep the flows; these pin each rule and its exact refusal.
 */
import { describe, expect, it } from 'vitest';
import { validateAuthorizeRequest } from '../../functions/discovery/authorize.ts';
import { parseRegistrationBody, validateRegistration } from '../../functions/discovery/dcr.ts';
import { parseTokenRequest } from '../../functions/discovery/token.ts';
import { OAuthError } from '../../functions/shared/errors.ts';

const refusal = (f: () => unknown): { status: number; code: string; description: string } | 'accepted' => {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    return { status: e.status, code: e.code, description: e.description };
  }
};

describe('validateRegistration', () => {
  const ok = { redirect_uris: ['http://127.0.0.1:5000/cb'] };
  const reg = (o: Record<string, unknown>) => () =>
    validateRegistration({ ...ok, ...o }, ['cursor'], ['app.example']);
  it.each<[string, Record<string, unknown>, string | 'accepted']>([
    ['minimal loopback client', {}, 'accepted'],
    ['no redirect_uris', { redirect_uris: undefined }, 'invalid_redirect_uri'],
    ['empty redirect_uris', { redirect_uris: [] }, 'invalid_redirect_uri'],
    [
      '11 redirect_uris',
      { redirect_uris: Array.from({ length: 11 }, (_, i) => `http://127.0.0.1:${5000 + i}/cb`) },
      'invalid_redirect_uri',
    ],
    ['an https host not allowed', { redirect_uris: ['https://evil.example/cb'] }, 'invalid_redirect_uri'],
    ['an allowed https host', { redirect_uris: ['https://app.example/cb'] }, 'accepted'],
    ['plain http off loopback', { redirect_uris: ['http://app.example/cb'] }, 'invalid_redirect_uri'],
    [
      'a configured custom scheme',
      { redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] },
      'accepted',
    ],
    ['an unconfigured custom scheme', { redirect_uris: ['evil://cb'] }, 'invalid_redirect_uri'],
    ['a fragment', { redirect_uris: ['http://127.0.0.1:5000/cb#x'] }, 'invalid_redirect_uri'],
    ['a non-string entry', { redirect_uris: [42] }, 'invalid_redirect_uri'],
    ['grant_types without authorization_code', { grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
    [
      'grant_types with client_credentials',
      { grant_types: ['authorization_code', 'client_credentials'] },
      'invalid_client_metadata',
    ],
    ['grant_types not a list', { grant_types: 'authorization_code' }, 'invalid_client_metadata'],
    ['response_types token', { response_types: ['token'] }, 'invalid_client_metadata'],
    ['auth method none', { token_endpoint_auth_method: 'none' }, 'accepted'],
    [
      'auth method private_key_jwt',
      { token_endpoint_auth_method: 'private_key_jwt' },
      'invalid_client_metadata',
    ],
    ['application_type native', { application_type: 'native' }, 'accepted'],
    ['application_type bogus', { application_type: 'desktop' }, 'invalid_client_metadata'],
    ['a valid scope', { scope: 'mcp:tools mcp:resources' }, 'accepted'],
    ['a scope with a quote', { scope: 'mcp"tools' }, 'invalid_client_metadata'],
    ['a scope with two spaces', { scope: 'a  b' }, 'invalid_client_metadata'],
    ['client_name of 200 characters', { client_name: 'n'.repeat(200) }, 'accepted'],
    ['client_name of 201 characters', { client_name: 'n'.repeat(201) }, 'invalid_client_metadata'],
    ['client_name with a newline', { client_name: 'a\nb' }, 'invalid_client_metadata'],
    ['client_name with RLO', { client_name: 'a\u202Eb' }, 'invalid_client_metadata'],
    ['client_name not a string', { client_name: 5 }, 'invalid_client_metadata'],
    ['client_uri https', { client_uri: 'https://app.example' }, 'accepted'],
    ['client_uri javascript:', { client_uri: 'javascript:alert(1)' }, 'invalid_client_metadata'],
    ['logo_uri plain http', { logo_uri: 'http://app.example/logo.png' }, 'invalid_client_metadata'],
    ['tos_uri data:', { tos_uri: 'data:text/html,x' }, 'invalid_client_metadata'],
    ['policy_uri ftp', { policy_uri: 'ftp://app.example/p' }, 'invalid_client_metadata'],
    ['contacts of 6', { contacts: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'invalid_client_metadata'],
    ['contacts not a list', { contacts: 'a@example.com' }, 'invalid_client_metadata'],
    ['an empty contact', { contacts: [''] }, 'invalid_client_metadata'],
  ])('%s', (_name, over, want) => {
    const got = refusal(reg(over));
    if (want === 'accepted') expect(got).toBe('accepted');
    else expect(got).toMatchObject({ status: 400, code: want });
  });

  it('defaults and duplicates: authorization_code, code, client_secret_basic; repeated URIs once', () => {
    const r = validateRegistration(
      { redirect_uris: ['http://127.0.0.1:5000/cb', 'http://127.0.0.1:5000/cb'] },
      [],
    );
    expect(r).toEqual({
      redirect_uris: ['http://127.0.0.1:5000/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  });

  it.each<[string, string | null, string, number, string]>([
    ['not JSON', 'application/json', '{', 400, 'invalid_client_metadata'],
    ['a JSON array', 'application/json', '[]', 400, 'invalid_client_metadata'],
    ['form-encoded', 'application/x-www-form-urlencoded', 'redirect_uris=x', 400, 'invalid_client_metadata'],
    ['too large', 'application/json', `{"x":"${'y'.repeat(17 * 1024)}"}`, 413, 'invalid_client_metadata'],
  ])('parseRegistrationBody refuses %s', (_name, type, body, status, code) => {
    expect(refusal(() => parseRegistrationBody(type, new TextEncoder().encode(body)))).toMatchObject({
      status,
      code,
    });
  });
});

describe('validateAuthorizeRequest', () => {
  const base = {
    response_type: 'code',
    client_id: 'c1',
    redirect_uri: 'http://127.0.0.1:5000/cb',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  };
  const ar =
    (over: Record<string, string | undefined>, extra = '') =>
    () => {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...base, ...over })) if (v !== undefined) p.append(k, v);
      for (const [k, v] of new URLSearchParams(extra)) p.append(k, v);
      return validateAuthorizeRequest(p, [], ['app.example']);
    };
  it.each<[string, Record<string, string | undefined>, string, string | 'accepted']>([
    ['a valid request', {}, '', 'accepted'],
    ['no client_id', { client_id: undefined }, '', 'invalid_request'],
    ['no redirect_uri', { redirect_uri: undefined }, '', 'invalid_request'],
    ['an off-policy redirect_uri', { redirect_uri: 'https://evil.example/cb' }, '', 'invalid_request'],
    ['no response_type', { response_type: undefined }, '', 'invalid_request'],
    ['response_type token', { response_type: 'token' }, '', 'unsupported_response_type'],
    ['no code_challenge', { code_challenge: undefined }, '', 'invalid_request'],
    ['a 42-character code_challenge', { code_challenge: 'a'.repeat(42) }, '', 'invalid_request'],
    ['a 129-character code_challenge', { code_challenge: 'a'.repeat(129) }, '', 'invalid_request'],
    ['junk after a valid code_challenge', { code_challenge: `${'a'.repeat(43)}!` }, '', 'invalid_request'],
    ['method plain', { code_challenge_method: 'plain' }, '', 'invalid_request'],
    ['no method (means plain)', { code_challenge_method: undefined }, '', 'invalid_request'],
    ['response_mode fragment', {}, 'response_mode=fragment', 'invalid_request'],
    ['response_mode query', {}, 'response_mode=query', 'accepted'],
    ['a repeated state', { state: 's' }, 'state=t', 'invalid_request'],
    ['two resources', {}, 'resource=https://a.example/mcp&resource=https://b.example/mcp', 'accepted'],
    ['a relative resource', {}, 'resource=/mcp', 'invalid_target'],
    ['a resource with a fragment', {}, 'resource=https://a.example/mcp%23x', 'invalid_target'],
    ['a malformed scope', { scope: 'a"b' }, '', 'invalid_scope'],
    ['a nonce with a control character', { nonce: 'a\u0001' }, '', 'invalid_request'],
    ['a 513-character login_hint', { login_hint: 'x'.repeat(513) }, '', 'invalid_request'],
    ['max_age not a number', { max_age: '1h' }, '', 'invalid_request'],
    ['51 parameters', {}, Array.from({ length: 46 }, (_, i) => `x${i}=1`).join('&'), 'invalid_request'],
  ])('%s', (_name, over, extra, want) => {
    const got = refusal(ar(over, extra));
    if (want === 'accepted') expect(got).toBe('accepted');
    else expect(got).toMatchObject({ status: 400, code: want });
  });

  it('forwards only allow-listed parameters (request, request_uri and unknown ones are dropped)', () => {
    const r = ar(
      { state: 's', scope: 'mcp:tools' },
      'request=eyJ&request_uri=https://evil.example/r&x=1&prompt=login',
    )();
    expect([...r.params.keys()].sort()).toEqual(
      [
        'client_id',
        'code_challenge',
        'code_challenge_method',
        'prompt',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
      ].sort(),
    );
  });
});

describe('parseTokenRequest', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it.each<[string, string | null, string, number, string | 'accepted']>([
    [
      'a code grant',
      'application/x-www-form-urlencoded',
      `grant_type=authorization_code&code=c&redirect_uri=${encodeURIComponent('http://127.0.0.1:5000/cb')}&code_verifier=${'v'.repeat(43)}`,
      200,
      'accepted',
    ],
    [
      'JSON instead of a form',
      'application/json',
      '{"grant_type":"authorization_code"}',
      400,
      'invalid_request',
    ],
    [
      'a repeated code',
      'application/x-www-form-urlencoded',
      'grant_type=authorization_code&code=a&code=b',
      400,
      'invalid_request',
    ],
    [
      'too large',
      'application/x-www-form-urlencoded',
      `grant_type=x&pad=${'p'.repeat(17 * 1024)}`,
      413,
      'invalid_request',
    ],
  ])('%s', (_name, type, body, status, want) => {
    const got = refusal(() => parseTokenRequest(type, enc(body)));
    if (want === 'accepted') expect(got).toBe('accepted');
    else expect(got).toMatchObject({ status, code: want });
  });
});

describe('parseTokenRequest: client_credentials (MCP client-credentials extension)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const FORM = 'application/x-www-form-urlencoded';
  const basic = `Basic ${Buffer.from('machine:s3cret').toString('base64')}`;
  const assertion = `client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=eyJ.x.y`;
  it.each<[string, string, string | null, boolean, number | 'accepted', string?]>([
    ['HTTP Basic', 'grant_type=client_credentials&scope=mcp:tools', basic, true, 'accepted'],
    [
      'client_secret_post',
      'grant_type=client_credentials&client_id=m&client_secret=s',
      null,
      true,
      'accepted',
    ],
    ['an RFC 7523 assertion', `grant_type=client_credentials&${assertion}`, null, true, 'accepted'],
    ['turned off', 'grant_type=client_credentials', basic, false, 400, 'unsupported_grant_type'],
    [
      'a public client (no credentials)',
      'grant_type=client_credentials&client_id=m',
      null,
      true,
      401,
      'invalid_client',
    ],
    [
      'a Bearer header is not client authentication',
      'grant_type=client_credentials',
      'Bearer abc',
      true,
      401,
      'invalid_client',
    ],
    [
      'two methods at once',
      'grant_type=client_credentials&client_id=m&client_secret=s',
      basic,
      true,
      400,
      'invalid_request',
    ],
    [
      'a secret without its client_id',
      'grant_type=client_credentials&client_secret=s',
      null,
      true,
      400,
      'invalid_request',
    ],
    [
      'an assertion of another type',
      'grant_type=client_credentials&client_assertion_type=x&client_assertion=y',
      null,
      true,
      400,
      'invalid_request',
    ],
    ['with a code', 'grant_type=client_credentials&code=c', basic, true, 400, 'invalid_request'],
    [
      'with a refresh token',
      'grant_type=client_credentials&refresh_token=r',
      basic,
      true,
      400,
      'invalid_request',
    ],
  ])('%s', (_name, body, authorization, clientCredentials, status, code) => {
    const got = refusal(() => parseTokenRequest(FORM, enc(body), { authorization, clientCredentials }));
    if (status === 'accepted') expect(got).toBe('accepted');
    else expect(got).toMatchObject({ status, code });
  });
});
