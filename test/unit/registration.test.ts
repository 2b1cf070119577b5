/**
 * Registration (functions/discovery/dcr.ts), member by member with the exact refusal a client
 * reads (RFC 7591 §3.2.2), the metadata as it is registered at the IdP, and the 201 body.
 */
import { describe, expect, it } from 'vitest';
import {
  DCR_LIMITS,
  parseRegistrationBody,
  registrationResponse,
  validateRegistration,
} from '../../functions/discovery/dcr.ts';
import { OAuthError } from '../../functions/shared/errors.ts';

const RU = 'http://127.0.0.1:5000/cb';
const outcome = (f: () => unknown) => {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    return `${e.status} ${e.code}: ${e.description}`;
  }
};
const meta = 'invalid_client_metadata';

describe('parseRegistrationBody', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it.each<[string, string | null, Uint8Array, unknown]>([
    ['a JSON object', 'application/json', enc('{"a":1}'), { a: 1 }],
    ['a type with parameters, in capitals', 'Application/JSON; charset=utf-8', enc('{}'), {}],
    [
      'exactly 16 KiB',
      'application/json',
      enc(`{"a":"${'x'.repeat(16 * 1024 - 8)}"}`),
      { a: 'x'.repeat(16 * 1024 - 8) },
    ],
    ['no content type', null, enc('{}'), `400 ${meta}: content type must be application/json`],
    ['text/plain', 'text/plain', enc('{}'), `400 ${meta}: content type must be application/json`],
    ['invalid JSON', 'application/json', enc('{'), `400 ${meta}: request body is not valid JSON`],
    [
      'invalid UTF-8',
      'application/json',
      new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      `400 ${meta}: request body is not valid JSON`,
    ],
    ['null', 'application/json', enc('null'), `400 ${meta}: request body must be a JSON object`],
    ['a number', 'application/json', enc('5'), `400 ${meta}: request body must be a JSON object`],
    ['a string', 'application/json', enc('"x"'), `400 ${meta}: request body must be a JSON object`],
    ['an array', 'application/json', enc('[]'), `400 ${meta}: request body must be a JSON object`],
    [
      'one byte over 16 KiB',
      'application/json',
      enc(`{"a":"${'x'.repeat(16 * 1024 - 7)}"}`),
      `413 ${meta}: request body larger than 16384 bytes`,
    ],
  ])('%s', (_n, type, body, want) => {
    const got = outcome(() => parseRegistrationBody(type, body));
    if (typeof want === 'string' && want.startsWith('413'))
      expect(String(got)).toMatch(/^413 invalid_client_metadata/);
    else expect(got).toEqual(want);
  });
});

describe('validateRegistration', () => {
  const reg = (o: Record<string, unknown>, hosts?: string[]) => () =>
    validateRegistration({ redirect_uris: [RU], ...o }, ['cursor'], hosts);
  const ru = 'invalid_redirect_uri';
  it.each<[string, Record<string, unknown>, string]>([
    ['no redirect_uris', { redirect_uris: undefined }, `400 ${ru}: redirect_uris is required`],
    ['redirect_uris not a list', { redirect_uris: RU }, `400 ${ru}: redirect_uris is required`],
    [
      '11 redirect_uris',
      { redirect_uris: Array.from({ length: 11 }, (_, i) => `http://127.0.0.1:${i + 1}/cb`) },
      `400 ${ru}: at most 10 redirect_uris are allowed`,
    ],
    [
      'a plain http URI',
      { redirect_uris: ['http://app.example/cb'] },
      `400 ${ru}: http redirect URIs are only allowed on loopback hosts (localhost, 127.0.0.1, [::1])`,
    ],
    [
      'grant_types empty',
      { grant_types: [] },
      `400 ${meta}: grant_types must be a non-empty array of authorization_code, refresh_token`,
    ],
    [
      'grant_types a string',
      { grant_types: 'authorization_code' },
      `400 ${meta}: grant_types must be a non-empty array of authorization_code, refresh_token`,
    ],
    [
      'grant_types of three',
      { grant_types: ['authorization_code', 'authorization_code', 'refresh_token'] },
      `400 ${meta}: grant_types must be a non-empty array of authorization_code, refresh_token`,
    ],
    [
      'grant_types with a number',
      { grant_types: [1] },
      `400 ${meta}: grant_types may only contain authorization_code, refresh_token`,
    ],
    [
      'grant_types with implicit',
      { grant_types: ['authorization_code', 'implicit'] },
      `400 ${meta}: grant_types may only contain authorization_code, refresh_token`,
    ],
    [
      'grant_types without authorization_code',
      { grant_types: ['refresh_token'] },
      `400 ${meta}: grant_types must include authorization_code`,
    ],
    [
      'response_types empty',
      { response_types: [] },
      `400 ${meta}: response_types must be a non-empty array of code`,
    ],
    [
      'response_types code twice',
      { response_types: ['code', 'code'] },
      `400 ${meta}: response_types must be a non-empty array of code`,
    ],
    [
      'response_types token',
      { response_types: ['token'] },
      `400 ${meta}: response_types may only contain code`,
    ],
    [
      'auth method private_key_jwt',
      { token_endpoint_auth_method: 'private_key_jwt' },
      `400 ${meta}: token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post`,
    ],
    [
      'auth method a number',
      { token_endpoint_auth_method: 1 },
      `400 ${meta}: token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post`,
    ],
    [
      'application_type desktop',
      { application_type: 'desktop' },
      `400 ${meta}: application_type must be web or native`,
    ],
    [
      'application_type a list',
      { application_type: ['web'] },
      `400 ${meta}: application_type must be web or native`,
    ],
    ['a scope with two spaces', { scope: 'a  b' }, `400 ${meta}: scope is not a valid scope string`],
    [
      'a scope of 1001 characters',
      { scope: 's'.repeat(1001) },
      `400 ${meta}: scope longer than 1000 characters`,
    ],
    ['a client_name not a string', { client_name: 5 }, `400 ${meta}: client_name must be a string`],
    [
      'a client_name of 201 characters',
      { client_name: 'n'.repeat(201) },
      `400 ${meta}: client_name longer than 200 characters`,
    ],
    [
      'a client_name with a control character',
      { client_name: 'a\u0001' },
      `400 ${meta}: client_name contains control characters`,
    ],
    [
      'a client_name with DEL',
      { client_name: 'a\u007f' },
      `400 ${meta}: client_name contains control characters`,
    ],
    [
      'a client_name with a C1 control',
      { client_name: 'a\u0085' },
      `400 ${meta}: client_name contains invisible or direction-changing characters`,
    ],
    [
      'a client_name with a zero-width space',
      { client_name: 'a\u200bb' },
      `400 ${meta}: client_name contains invisible or direction-changing characters`,
    ],
    [
      'a client_name with an isolate',
      { client_name: '\u2066a' },
      `400 ${meta}: client_name contains invisible or direction-changing characters`,
    ],
    [
      'a client_name with an Arabic letter mark',
      { client_name: 'a\u061c' },
      `400 ${meta}: client_name contains invisible or direction-changing characters`,
    ],
    [
      'a client_name with a BOM',
      { client_name: '\ufeffa' },
      `400 ${meta}: client_name contains invisible or direction-changing characters`,
    ],
    [
      'a software_id too long',
      { software_id: 'x'.repeat(201) },
      `400 ${meta}: software_id longer than 200 characters`,
    ],
    [
      'a software_version not a string',
      { software_version: 1 },
      `400 ${meta}: software_version must be a string`,
    ],
    [
      'client_uri javascript:',
      { client_uri: 'javascript:alert(1)' },
      `400 ${meta}: client_uri must be an https URL`,
    ],
    [
      'logo_uri plain http',
      { logo_uri: 'http://app.example/l.png' },
      `400 ${meta}: logo_uri must be an https URL`,
    ],
    [
      'tos_uri a custom scheme (allowed for redirects only)',
      { tos_uri: 'cursor://x/tos' },
      `400 ${meta}: tos_uri must be an https URL`,
    ],
    [
      'policy_uri with a fragment',
      { policy_uri: 'https://app.example/p#x' },
      `400 ${meta}: policy_uri must be an https URL`,
    ],
    [
      'policy_uri of 2001 characters',
      { policy_uri: `https://app.example/${'p'.repeat(1981)}` },
      `400 ${meta}: policy_uri longer than 2000 characters`,
    ],
    [
      'contacts of 6',
      { contacts: ['a', 'b', 'c', 'd', 'e', 'f'] },
      `400 ${meta}: contacts must be an array of at most 5 strings`,
    ],
    ['contacts a string', { contacts: 'a@b' }, `400 ${meta}: contacts must be an array of at most 5 strings`],
    ['an empty second contact', { contacts: ['a@b', ''] }, `400 ${meta}: contacts[1] is empty`],
    ['a null contact', { contacts: [null] }, `400 ${meta}: contacts[0] is empty`],
    ['a numeric contact', { contacts: [5] }, `400 ${meta}: contacts[0] must be a string`],
    [
      'a contact of 321 characters',
      { contacts: ['c'.repeat(321)] },
      `400 ${meta}: contacts[0] longer than 320 characters`,
    ],
  ])('refuses %s', (_n, over, want) => {
    expect(outcome(reg(over))).toBe(want);
  });

  it('logs the refusal with its description', () => {
    try {
      validateRegistration({ redirect_uris: [] }, []);
    } catch (e) {
      expect((e as OAuthError).reason).toBe('registration refused: redirect_uris is required');
    }
    expect.assertions(1);
  });

  it('registers exactly what was sent and valid, with the defaults, and nothing absent', () => {
    const r = validateRegistration({ redirect_uris: [RU, RU] }, []);
    expect(Object.keys(r).sort()).toEqual([
      'grant_types',
      'redirect_uris',
      'response_types',
      'token_endpoint_auth_method',
    ]);
    expect(r).toEqual({
      redirect_uris: [RU],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  });

  it('keeps every member it knows, and only those', () => {
    const sent = {
      redirect_uris: [RU, 'cursor://cb'],
      grant_types: ['authorization_code', 'refresh_token', 'authorization_code'].slice(0, 2),
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      client_name: 'n'.repeat(DCR_LIMITS.shortText),
      client_uri: 'https://app.example',
      logo_uri: 'http://127.0.0.1:5000/logo.png',
      tos_uri: 'https://app.example/tos',
      policy_uri: 'https://app.example/policy',
      scope: 'mcp:tools mcp:resources',
      contacts: ['a@app.example', 'b@app.example', 'c', 'd', 'e'],
      software_id: 'id-1',
      software_version: '1.2.3',
      application_type: 'native',
      jwks_uri: 'https://evil.example/jwks',
      extra: 1,
    };
    const { jwks_uri: _j, extra: _e, ...known } = sent;
    expect(validateRegistration(sent, ['cursor'], ['app.example'])).toStrictEqual(known);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'grant_types repeated',
      { grant_types: ['authorization_code', 'authorization_code'] },
      { grant_types: ['authorization_code'] },
    ],
    [
      'null members as absent',
      {
        grant_types: null,
        response_types: null,
        token_endpoint_auth_method: null,
        application_type: null,
        client_name: null,
        contacts: null,
      },
      {},
    ],
    ['auth method none', { token_endpoint_auth_method: 'none' }, { token_endpoint_auth_method: 'none' }],
    ['application_type web', { application_type: 'web' }, { application_type: 'web' }],
  ])('accepts %s', (_n, over, part) => {
    const r = outcome(reg(over));
    expect(typeof r).toBe('object');
    expect(r).toMatchObject(part);
    expect(Object.values(r as object)).not.toContain(null);
  });

  it('allows any https host when no list is given', () => {
    expect(outcome(reg({ redirect_uris: ['https://any.example/cb'] }))).toMatchObject({
      redirect_uris: ['https://any.example/cb'],
    });
    expect(outcome(reg({ redirect_uris: ['https://any.example/cb'] }, ['app.example']))).toBe(
      `400 ${ru}: https redirect URIs must be on a host listed in discovery.allowed_redirect_hosts ("any.example" is not)`,
    );
  });

  it('accepts 10 redirect URIs and 5 contacts', () => {
    const uris = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${i + 1}/cb`);
    expect(outcome(reg({ redirect_uris: uris, contacts: ['a', 'b', 'c', 'd', 'e'] }))).toMatchObject({
      redirect_uris: uris,
      contacts: ['a', 'b', 'c', 'd', 'e'],
    });
  });
});

describe('registrationResponse (RFC 7591 §3.2.1)', () => {
  const requested = validateRegistration({ redirect_uris: [RU], scope: 'a b', client_name: 'C' }, []);
  it('describes the client as the IdP made it, with its credentials', () => {
    expect(
      registrationResponse(requested, {
        client_id: 'id1',
        client_secret: 's3',
        client_id_issued_at: 100,
        metadata: {
          scope: 'a',
          client_name: undefined,
          registration_access_token: 'rat',
          registration_client_uri: 'u',
        },
      }),
    ).toStrictEqual({
      ...requested,
      scope: 'a',
      client_id: 'id1',
      client_secret: 's3',
      client_secret_expires_at: 0,
      client_id_issued_at: 100,
    });
  });

  it('keeps the secret expiry the IdP gave, and sends no secret fields for a public client', () => {
    expect(
      registrationResponse(requested, {
        client_id: 'id1',
        client_secret: 's',
        client_secret_expires_at: 5,
        metadata: {},
      }),
    ).toMatchObject({ client_secret: 's', client_secret_expires_at: 5 });
    expect(registrationResponse(requested, { client_id: 'id2', metadata: {} })).toStrictEqual({
      ...requested,
      client_id: 'id2',
    });
  });
});
