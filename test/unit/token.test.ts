/**
 * Access-token verification (functions/proxy/token.ts), rule by rule: the bearer parser, the
 * claims turned into an identity, and the JWT verifier against a real issuer on loopback whose
 * every answer the test chooses (metadata, redirects, stalls, broken key sets), so each outcome
 * (identity, 401 TokenRejected, 503 VerifierUnavailable) is pinned with its logged reason.
 */
import type http from 'node:http';
import * as jose from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createJwtVerifier,
  extractBearer,
  identityOf,
  type JwtVerifierOptions,
  TokenRejected,
  tokenError,
  typAccepted,
  VerifierUnavailable,
} from '../../functions/proxy/token.ts';
import { DependencyError } from '../../functions/shared/errors.ts';
import { serve, type TestServer } from '../helpers/net.ts';

describe('extractBearer: the scheme, the anchors and b64token syntax', () => {
  const q = (s = '') => new URLSearchParams(s);
  it.each<[string | null, string, ReturnType<typeof extractBearer>]>([
    ['Foo Bearer abc', '', { kind: 'missing' }],
    ['xBearer abc', '', { kind: 'missing' }],
    ['Bearerabc', '', { kind: 'missing' }],
    ['DPoP abc', '', { kind: 'missing' }],
    ['   ', '', { kind: 'missing' }],
    ['   ', 'access_token=x', { kind: 'query-only' }],
    ['', 'access_token=x', { kind: 'query-only' }],
    ['Bearer abc', 'other=1', { kind: 'token', token: 'abc' }],
    ['BEARER abc', '', { kind: 'token', token: 'abc' }],
    ['Bearer  abc', '', { kind: 'token', token: 'abc' }],
    ['Bearer abc  ', '', { kind: 'token', token: 'abc' }],
    ['Bearer abc==', '', { kind: 'token', token: 'abc==' }],
    ['Bearer A-Z.a_z~0+9/', '', { kind: 'token', token: 'A-Z.a_z~0+9/' }],
    ['Bearer   ', '', { kind: 'malformed', reason: 'empty bearer token' }],
    ['Bearer \t', '', { kind: 'malformed', reason: 'empty bearer token' }],
    ['Bearer\tabc', '', { kind: 'invalid', reason: 'bearer credentials are not a single token' }],
    ['Bearer abc def', '', { kind: 'invalid', reason: 'bearer credentials are not a single token' }],
    ['Bearer =abc', '', { kind: 'invalid', reason: 'bearer token is not b64token syntax' }],
    ['Bearer abc=d', '', { kind: 'invalid', reason: 'bearer token is not b64token syntax' }],
    ['Bearer abc%', '', { kind: 'invalid', reason: 'bearer token is not b64token syntax' }],
    ['Bearer ab,c', '', { kind: 'invalid', reason: 'bearer token is not b64token syntax' }],
  ])('%j with query %j', (header, query, want) => {
    expect(extractBearer(header, q(query))).toEqual(want);
  });
});

describe('identityOf', () => {
  const base = { iss: 'https://i', sub: 'alice' };
  const reason = (p: jose.JWTPayload) => {
    try {
      identityOf(p, 60, 1_800_000_000_000);
      return 'accepted';
    } catch (e) {
      expect(e).toBeInstanceOf(TokenRejected);
      return (e as Error).message;
    }
  };
  it.each<[string, jose.JWTPayload, string]>([
    ['no sub', { iss: 'https://i' }, 'token has no sub claim'],
    ['an empty sub', { ...base, sub: '' }, 'token has no sub claim'],
    ['a numeric sub', { ...base, sub: 42 as unknown as string }, 'token has no sub claim'],
    ['an object sub', { ...base, sub: { id: 1 } as unknown as string }, 'token has no sub claim'],
    ['iat a string', { ...base, iat: '1' as unknown as number }, 'iat claim is not a number'],
    ['iat infinite', { ...base, iat: Number.POSITIVE_INFINITY }, 'iat claim is not a number'],
    ['iat NaN', { ...base, iat: Number.NaN }, 'iat claim is not a number'],
    ['iat exactly at now + skew', { ...base, iat: 1_800_000_060 }, 'accepted'],
    ['iat a second past now + skew', { ...base, iat: 1_800_000_061 }, 'token issued in the future (iat)'],
    ['a lone surrogate in sub', { ...base, sub: 'a\ud800' }, 'sub claim is not well-formed Unicode'],
    ['one in client_id', { ...base, client_id: '\udc00' }, 'client_id claim is not well-formed Unicode'],
    ['one in azp', { ...base, azp: 'x\ud800' }, 'client_id claim is not well-formed Unicode'],
    ['one in iss', { ...base, iss: 'https://i\ud800' }, 'iss claim is not well-formed Unicode'],
    ['one in a scope', { ...base, scope: 'a \ud800' }, 'scope claim is not well-formed Unicode'],
    ['one in an scp list', { ...base, scp: ['a', '\ud800'] }, 'scope claim is not well-formed Unicode'],
    // Only string claims are checked and used: a list is not a client id.
    ['a client_id that is a list', { ...base, client_id: ['\ud800'] }, 'accepted'],
  ])('%s', (_name, payload, want) => {
    expect(reason(payload)).toBe(want);
  });

  it.each<[string, jose.JWTPayload, string | undefined, string[]]>([
    ['client_id', { client_id: 'c1', azp: 'a1', cid: 'x1' }, 'c1', []],
    ['azp without client_id', { azp: 'a1', cid: 'x1' }, 'a1', []],
    ['cid alone', { cid: 'x1' }, 'x1', []],
    ['a numeric client_id', { client_id: 7 }, undefined, []],
    ['scope as a string', { scope: 'a  b ' }, undefined, ['a', 'b']],
    ['scope as a list', { scope: ['a', 3, 'b'] }, undefined, ['a', 'b']],
    ['scp as a string', { scp: 'x y' }, undefined, ['x', 'y']],
    ['scope before scp', { scope: 'a', scp: 'x' }, undefined, ['a']],
    ['scope of another type', { scope: 5 }, undefined, []],
  ])('identity from %s', (_name, extra, clientId, scopes) => {
    const payload = { ...base, ...extra };
    expect(identityOf(payload, 60)).toEqual({
      subject: 'alice',
      clientId,
      scopes,
      issuer: 'https://i',
      claims: payload,
    });
  });
});

describe('typAccepted with a configured list', () => {
  it.each<[unknown, readonly string[], boolean]>([
    [undefined, ['at+jwt'], false],
    [undefined, ['at+jwt', 'jwt'], true],
    ['JWT', ['at+jwt'], false],
    ['application/at+jwt', ['at+jwt'], true],
    ['jwtapplication/', ['jwt'], false],
    ['x/application/jwt', ['jwt'], false],
    ['application/', [''], false],
  ])('typ %j with %j → %s', (typ, list, want) => {
    expect(typAccepted(typ, list)).toBe(want);
  });
});

describe('tokenError', () => {
  const challenge = { resourceMetadata: 'https://p/.well-known/oauth-protected-resource/mcp' };
  it('maps an outage to its dependency error (503), never to 401', () => {
    const e = tokenError(new VerifierUnavailable('JWKS answered HTTP 500'), challenge);
    expect({ status: e.status, code: e.code, challenge: e.challenge }).toEqual({
      status: 503,
      code: 'temporarily_unavailable',
      challenge: undefined,
    });
    const v = new VerifierUnavailable('x');
    expect(v).toBeInstanceOf(DependencyError);
    expect({
      dependency: v.dependency,
      failure: v.failure,
      reason: v.reason,
      description: v.description,
    }).toEqual({
      dependency: 'jwks',
      failure: 'unreachable',
      reason: 'x',
      description: 'token verification is temporarily unavailable',
    });
  });
  it.each<[string, unknown, string]>([
    ['a rejected token', new TokenRejected('kid k9 unknown'), 'kid k9 unknown'],
    ['a thrown string', 'odd', 'odd'],
  ])('maps %s to 401 invalid_token with the challenge and the reason', (_n, thrown, reason) => {
    const e = tokenError(thrown, challenge);
    expect({
      status: e.status,
      code: e.code,
      description: e.description,
      reason: e.reason,
      challenge: e.challenge,
    }).toEqual({
      status: 401,
      code: 'invalid_token',
      description: 'the access token is invalid',
      reason,
      challenge: { ...challenge, includeError: true },
    });
  });
});

/** An issuer on loopback whose answers each test sets by path; every request path is recorded. */
interface Idp {
  readonly origin: string;
  readonly hits: string[];
  readonly routes: Map<string, http.RequestListener>;
  jwksHits(): number;
}

const json = (body: unknown, status = 200): http.RequestListener => {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
};
/** Never answers (until the server closes). */
const stall: http.RequestListener = () => {};

describe('createJwtVerifier against a loopback issuer', () => {
  let server: TestServer;
  let idp: Idp;
  let key: jose.CryptoKey;
  let stranger: jose.CryptoKey;
  let keys: jose.JWK[];
  const AUD = 'https://proxy.example/mcp';

  beforeAll(async () => {
    const hits: string[] = [];
    const routes = new Map<string, http.RequestListener>();
    server = await serve((req, res) => {
      hits.push(req.url ?? '');
      const h = routes.get(req.url ?? '');
      if (h) h(req, res);
      else res.writeHead(404).end('not found');
    });
    idp = { origin: server.url, hits, routes, jwksHits: () => hits.filter((h) => h === '/jwks').length };
    const pair = await jose.generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    stranger = (await jose.generateKeyPair('RS256')).privateKey;
    keys = [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }];
  });
  afterAll(() => server.close());
  afterEach(() => {
    idp.hits.length = 0;
    idp.routes.clear();
  });

  /** The issuer at `path` publishes its OIDC metadata and its key set. */
  const publish = (path = '') => {
    const issuer = `${idp.origin}${path}`;
    idp.routes.set(
      `${path}/.well-known/openid-configuration`,
      json({ issuer, jwks_uri: `${idp.origin}/jwks` }),
    );
    idp.routes.set('/jwks', json({ keys }));
    return issuer;
  };
  const sign = (issuer: string, claims: jose.JWTPayload = {}, header: object = {}, k = key) => {
    const now = Math.floor(Date.now() / 1000);
    const payload: jose.JWTPayload = {
      iss: issuer,
      sub: 'alice',
      aud: AUD,
      iat: now,
      exp: now + 300,
      ...claims,
    };
    for (const c of Object.keys(payload)) if (payload[c] === undefined) delete payload[c];
    return new jose.SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt', ...header })
      .sign(k);
  };
  const verifier = (issuer: string, over: Partial<JwtVerifierOptions> = {}) =>
    createJwtVerifier({ issuer, algorithms: ['RS256'], clockSkewSeconds: 60, timeoutMs: 1000, ...over });
  /** What verify ended in: the subject, or the class and message of the error. */
  const outcome = async (p: Promise<{ subject: string }>) =>
    p.then(
      (id) => `ok ${id.subject}`,
      (e: Error) => `${e.name}: ${e.message}`,
    );

  it('discovers the key set from OIDC metadata and verifies a token', async () => {
    const issuer = publish();
    const v = verifier(issuer);
    await v.warm();
    expect(idp.hits).toEqual(['/.well-known/openid-configuration']);
    const id = await v.verify(await sign(issuer, { scope: 'mcp:tools', client_id: 'c1' }), [AUD]);
    expect({ subject: id.subject, clientId: id.clientId, scopes: id.scopes, issuer: id.issuer }).toEqual({
      subject: 'alice',
      clientId: 'c1',
      scopes: ['mcp:tools'],
      issuer,
    });
    expect(idp.hits).toEqual(['/.well-known/openid-configuration', '/jwks']);
  });

  it.each<[string, string, string]>([
    ['exp', 'exp', 'TokenRejected: ERR_JWT_CLAIM_VALIDATION_FAILED: missing required "exp" claim'],
    ['iss', 'iss', 'TokenRejected: ERR_JWT_CLAIM_VALIDATION_FAILED: missing required "iss" claim'],
    ['aud', 'aud', 'TokenRejected: ERR_JWT_CLAIM_VALIDATION_FAILED: missing required "aud" claim'],
    ['sub', 'sub', 'TokenRejected: ERR_JWT_CLAIM_VALIDATION_FAILED: missing required "sub" claim'],
  ])('refuses a token without %s (required claims)', async (_n, claim, want) => {
    const issuer = publish();
    const token = await sign(issuer, { [claim]: undefined });
    expect(await outcome(verifier(issuer).verify(token, [AUD]))).toBe(want);
  });

  it.each<[string, jose.JWTPayload, object, Partial<JwtVerifierOptions>, string]>([
    ['another issuer', { iss: 'https://other.example' }, {}, {}, 'unexpected "iss" claim value'],
    ['another audience', { aud: 'https://other.example/mcp' }, {}, {}, 'unexpected "aud" claim value'],
    ['an expiry 90 s ago (skew 60 s)', { exp: Math.floor(Date.now() / 1000) - 90 }, {}, {}, '"exp" claim'],
    ['an algorithm not configured', {}, {}, { algorithms: ['PS256'] }, '"alg" (Algorithm) Header'],
    ['typ logout+jwt', {}, { typ: 'logout+jwt' }, {}, 'token typ "logout+jwt" is not an access token type'],
    ['typ JWT when only at+jwt is accepted', {}, { typ: 'JWT' }, { acceptedTypes: ['at+jwt'] }, 'typ "JWT"'],
    ['iat beyond the skew', { iat: Math.floor(Date.now() / 1000) + 3600 }, {}, {}, '(iat)'],
  ])('refuses %s (401)', async (_n, claims, header, over, want) => {
    const issuer = publish();
    const token = await sign(issuer, claims, header);
    const got = await outcome(verifier(issuer, over).verify(token, [AUD]));
    expect(got).toMatch(/^TokenRejected: /);
    expect(got).toContain(want);
  });

  it('accepts an expiry within the clock skew, and typ JWT by default', async () => {
    const issuer = publish();
    const token = await sign(issuer, { exp: Math.floor(Date.now() / 1000) - 30 }, { typ: 'JWT' });
    expect(await outcome(verifier(issuer).verify(token, [AUD, 'https://b.example']))).toBe('ok alice');
  });

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const issuer = publish();
    const got = await outcome(verifier(issuer).verify(await sign(issuer, {}, {}, stranger), [AUD]));
    expect(got).toMatch(/^TokenRejected: ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it('finds the metadata of an issuer with a path (RFC 8414 §3.1 path insertion)', async () => {
    const issuer = `${idp.origin}/tenant`;
    idp.routes.set(
      '/.well-known/oauth-authorization-server/tenant',
      json({ issuer, jwks_uri: `${idp.origin}/jwks` }),
    );
    idp.routes.set('/jwks', json({ keys }));
    expect(await outcome(verifier(issuer).verify(await sign(issuer), [AUD]))).toBe('ok alice');
    expect(idp.hits).toEqual([
      '/tenant/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server/tenant',
      '/jwks',
    ]);
  });

  it('uses the first document that has a jwks_uri', async () => {
    const issuer = `${idp.origin}/t2`;
    idp.routes.set('/t2/.well-known/openid-configuration', json({ issuer }));
    idp.routes.set(
      '/.well-known/oauth-authorization-server/t2',
      json({ issuer, jwks_uri: `${idp.origin}/jwks` }),
    );
    idp.routes.set('/jwks', json({ keys }));
    expect(await outcome(verifier(issuer).verify(await sign(issuer), [AUD]))).toBe('ok alice');
  });

  const unavailable = (detail: string) =>
    `VerifierUnavailable: could not discover jwks_uri for issuer ${idp.origin}/t3: ${detail}`;

  it.each<[string, () => void, (o: string) => string]>([
    [
      'metadata for another issuer (RFC 8414 §3.3)',
      () => {
        for (const p of [
          '/t3/.well-known/openid-configuration',
          '/.well-known/oauth-authorization-server/t3',
        ])
          idp.routes.set(p, json({ issuer: `${idp.origin}/other`, jwks_uri: `${idp.origin}/jwks` }));
      },
      (o) => `${o}/.well-known/oauth-authorization-server/t3 has issuer ${o}/other, expected ${o}/t3`,
    ],
    [
      'redirects (not followed)',
      () => {
        const go: http.RequestListener = (_q, res) => {
          res.writeHead(302, { location: '/good' }).end();
        };
        idp.routes.set('/t3/.well-known/openid-configuration', go);
        idp.routes.set('/.well-known/oauth-authorization-server/t3', go);
        idp.routes.set('/good', json({ issuer: `${idp.origin}/t3`, jwks_uri: `${idp.origin}/jwks` }));
      },
      (o) => `${o}/.well-known/oauth-authorization-server/t3 answered HTTP 0 without a JSON object`,
    ],
    [
      'a jwks_uri that is not a URL',
      () => {
        idp.routes.set(
          '/t3/.well-known/openid-configuration',
          json({ issuer: `${idp.origin}/t3`, jwks_uri: 'no' }),
        );
      },
      () => 'jwks_uri is not a URL',
    ],
    [
      'error pages',
      () => {
        idp.routes.set('/t3/.well-known/openid-configuration', json({ issuer: `${idp.origin}/t3` }, 500));
      },
      (o) => `${o}/.well-known/oauth-authorization-server/t3 answered HTTP 404 without a JSON object`,
    ],
  ])('is unavailable (503) when the issuer serves %s', async (_n, setup, detail) => {
    setup();
    idp.routes.set('/jwks', json({ keys }));
    const issuer = `${idp.origin}/t3`;
    expect(await outcome(verifier(issuer).verify(await sign(issuer), [AUD]))).toBe(
      unavailable(detail(idp.origin)),
    );
    expect(idp.hits).not.toContain('/good');
    expect(idp.hits).not.toContain('/jwks');
  });

  it('gives up on metadata that never comes within the timeout', async () => {
    const issuer = `${idp.origin}/t4`;
    idp.routes.set('/t4/.well-known/openid-configuration', stall);
    idp.routes.set('/.well-known/oauth-authorization-server/t4', stall);
    const t0 = Date.now();
    const got = await outcome(verifier(issuer, { timeoutMs: 150 }).verify(await sign(issuer), [AUD]));
    expect(got).toMatch(/^VerifierUnavailable: could not discover jwks_uri/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('tries discovery again after a failure (no cached failure)', async () => {
    const issuer = `${idp.origin}/t5`;
    const v = verifier(issuer);
    const token = await sign(issuer);
    expect(await outcome(v.verify(token, [AUD]))).toMatch(/^VerifierUnavailable/);
    idp.routes.set('/t5/.well-known/openid-configuration', json({ issuer, jwks_uri: `${idp.origin}/jwks` }));
    idp.routes.set('/jwks', json({ keys }));
    expect(await outcome(v.verify(token, [AUD]))).toBe('ok alice');
  });

  it('uses a configured jwks_uri without discovery, and keeps the key set it fetched', async () => {
    idp.routes.set('/jwks', json({ keys }));
    const issuer = 'https://issuer.example';
    const v = verifier(issuer, { jwksUri: `${idp.origin}/jwks` });
    await v.warm(); // nothing to discover; the keys come with the first token
    expect(idp.hits).toEqual([]);
    const token = await sign(issuer);
    expect(await outcome(v.verify(token, [AUD]))).toBe('ok alice');
    expect(await outcome(v.verify(token, [AUD]))).toBe('ok alice');
    expect(idp.hits).toEqual(['/jwks']);
  });

  it.each<[string, http.RequestListener, Partial<JwtVerifierOptions>, string]>([
    ['answers HTTP 500', json({ error: 'down' }, 500), {}, 'VerifierUnavailable: JWKS answered HTTP 500'],
    [
      'answers HTTP 404',
      (_q, res) => res.writeHead(404).end(),
      {},
      'VerifierUnavailable: JWKS answered HTTP 404',
    ],
    [
      'is not JSON',
      (_q, res) => res.writeHead(200).end('<html>'),
      {},
      'VerifierUnavailable: JWKS unavailable: Failed to parse the JSON Web Key Set HTTP response as JSON',
    ],
    [
      'is not a key set',
      json({ keys: 'none' }),
      {},
      'VerifierUnavailable: JWKS unavailable: JSON Web Key Set malformed',
    ],
    ['never answers', stall, { timeoutMs: 150 }, 'VerifierUnavailable: JWKS fetch failed'],
    [
      'stops in the middle of the body',
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":');
      },
      { timeoutMs: 150 },
      'VerifierUnavailable: JWKS unavailable: request timed out',
    ],
  ])('is unavailable (503) when the key set %s', async (_n, handler, over, want) => {
    idp.routes.set('/jwks', handler);
    const issuer = 'https://issuer.example';
    const got = await outcome(
      verifier(issuer, { jwksUri: `${idp.origin}/jwks`, ...over }).verify(await sign(issuer), [AUD]),
    );
    expect(got.startsWith(want)).toBe(true);
  });

  it('is unavailable (503) when the key set cannot be reached at all', async () => {
    const closed = await serve(() => {});
    await closed.close();
    const issuer = 'https://issuer.example';
    const got = await outcome(
      verifier(issuer, { jwksUri: `${closed.url}/jwks` }).verify(await sign(issuer), [AUD]),
    );
    expect(got).toMatch(/^VerifierUnavailable: JWKS fetch failed: /);
  });

  it('fetches the key set again for an unknown kid only after the cooldown', async () => {
    idp.routes.set('/jwks', json({ keys }));
    const issuer = 'https://issuer.example';
    const unknown = await sign(issuer, {}, { kid: 'k9' }, stranger);
    const cooled = verifier(issuer, { jwksUri: `${idp.origin}/jwks` });
    for (let i = 0; i < 3; i++)
      expect(await outcome(cooled.verify(unknown, [AUD]))).toMatch(/ERR_JWKS_NO_MATCHING_KEY/);
    expect(idp.jwksHits()).toBe(1); // the default cooldown (30 s) holds
    idp.hits.length = 0;
    const explicit = verifier(issuer, { jwksUri: `${idp.origin}/jwks`, jwksCooldownSeconds: 1 });
    expect(await outcome(explicit.verify(await sign(issuer), [AUD]))).toBe('ok alice');
    expect(await outcome(explicit.verify(unknown, [AUD]))).toMatch(/ERR_JWKS_NO_MATCHING_KEY/);
    expect(idp.jwksHits()).toBe(1); // 1 s is 1000 ms, not 1 ms
    idp.hits.length = 0;
    const eager = verifier(issuer, { jwksUri: `${idp.origin}/jwks`, jwksCooldownSeconds: 0 });
    expect(await outcome(eager.verify(await sign(issuer), [AUD]))).toBe('ok alice');
    expect(await outcome(eager.verify(unknown, [AUD]))).toMatch(/ERR_JWKS_NO_MATCHING_KEY/);
    expect(idp.jwksHits()).toBe(2);
  });

  it('calls the given fetch implementation for discovery and keys', async () => {
    const issuer = publish();
    const seen: string[] = [];
    const v = verifier(issuer, {
      fetchImpl: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
    });
    expect(await outcome(v.verify(await sign(issuer), [AUD]))).toBe('ok alice');
    expect(seen).toEqual([`${issuer}/.well-known/openid-configuration`, `${issuer}/jwks`]);
  });

  it('applies the default timeout when none is given', async () => {
    const issuer = publish();
    const v = createJwtVerifier({ issuer, algorithms: ['RS256'], clockSkewSeconds: 60 });
    expect(await outcome(v.verify(await sign(issuer), [AUD]))).toBe('ok alice');
  });
});
