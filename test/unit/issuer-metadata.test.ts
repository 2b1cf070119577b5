/**
 * Where an issuer's metadata is looked for (OpenID Connect Discovery §4, RFC 8414 §3.1) and which
 * document may be used (RFC 8414 §3.3: the `issuer` it names is exactly the one it was fetched
 * for), as pure tables over the answers of each candidate URL.
 */
import { describe, expect, it } from 'vitest';
import {
  discoverMetadata,
  type MetadataReply,
  metadataUrls,
  sameIssuer,
} from '../../functions/shared/issuer-metadata.ts';

describe('metadataUrls', () => {
  const oidc = '/.well-known/openid-configuration';
  const as = '/.well-known/oauth-authorization-server';
  it.each<[string, string[]]>([
    ['https://i.example', [`https://i.example${oidc}`, `https://i.example${as}`]],
    ['https://i.example/', [`https://i.example${oidc}`, `https://i.example${as}`]],
    ['https://i.example//', [`https://i.example${oidc}`, `https://i.example${as}`]],
    ['https://i.example/tenant', [`https://i.example/tenant${oidc}`, `https://i.example${as}/tenant`]],
    ['https://i.example/a/b//', [`https://i.example/a/b${oidc}`, `https://i.example${as}/a/b`]],
    [
      'http://127.0.0.1:9000/realms/x',
      [`http://127.0.0.1:9000/realms/x${oidc}`, `http://127.0.0.1:9000${as}/realms/x`],
    ],
  ])('%s', (issuer, want) => {
    expect(metadataUrls(issuer)).toEqual(want);
  });
});

describe('discoverMetadata', () => {
  const ISS = 'https://i.example';
  const urls = ['https://i.example/a', 'https://i.example/b'];
  /** Each URL answers from the table; a URL not in it is never asked. */
  const run = (answers: Record<string, MetadataReply>, required = ['jwks_uri'], list = urls) => {
    const asked: string[] = [];
    return discoverMetadata(
      ISS,
      list,
      async (url) => {
        asked.push(url);
        const a = answers[url];
        if (!a) throw new Error(`unexpected ${url}`);
        return a;
      },
      required,
    ).then((r) => ({ ...r, asked }));
  };
  const good = { issuer: ISS, jwks_uri: 'https://i.example/jwks' };
  const fail = (b: MetadataReply) => ({ 'https://i.example/a': b, 'https://i.example/b': { status: 404 } });
  const tail = 'https://i.example/b answered HTTP 404 without a JSON object';

  it('takes the first usable document, and asks no further', async () => {
    expect(await run({ 'https://i.example/a': { status: 200, json: good } })).toEqual({
      ok: true,
      doc: good,
      url: 'https://i.example/a',
      asked: ['https://i.example/a'],
    });
  });

  it('goes on to the next candidate, and says why the last one failed', async () => {
    expect(
      await run({
        'https://i.example/a': { status: 404 },
        'https://i.example/b': { status: 200, json: good },
      }),
    ).toMatchObject({ ok: true, url: 'https://i.example/b', asked: urls });
    expect(await run(fail({ status: 500 }))).toEqual({ ok: false, reason: tail, asked: urls });
  });

  it.each<[string, MetadataReply, string]>([
    [
      'a JSON body on a 404',
      { status: 404, json: good },
      'https://i.example/a answered HTTP 404 without a JSON object',
    ],
    ['a 200 without a body', { status: 200 }, 'https://i.example/a answered HTTP 200 without a JSON object'],
    [
      'a 200 with null',
      { status: 200, json: null as unknown as Record<string, unknown> },
      'without a JSON object',
    ],
    [
      'a 200 with a string',
      { status: 200, json: 'x' as unknown as Record<string, unknown> },
      'without a JSON object',
    ],
    [
      'another issuer',
      { status: 200, json: { ...good, issuer: 'https://evil.example' } },
      'has issuer https://evil.example, expected https://i.example',
    ],
    [
      'the issuer with a trailing slash',
      { status: 200, json: { ...good, issuer: `${ISS}/` } },
      `has issuer ${ISS}/, expected ${ISS}`,
    ],
    ['no issuer', { status: 200, json: { jwks_uri: good.jwks_uri } }, 'has issuer undefined'],
    ['no jwks_uri', { status: 200, json: { issuer: ISS } }, 'https://i.example/a has no jwks_uri'],
    [
      'a jwks_uri that is not a string',
      { status: 200, json: { issuer: ISS, jwks_uri: 1 } },
      'has no jwks_uri',
    ],
  ])('refuses %s', async (_n, reply, why) => {
    const r = await run({ 'https://i.example/a': reply }, ['jwks_uri'], ['https://i.example/a']);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.reason).toContain(why);
  });

  it('without required members, the issuer match is enough', async () => {
    const r = await discoverMetadata(ISS, urls, async () => ({ status: 200, json: { issuer: ISS } }));
    expect(r).toEqual({ ok: true, doc: { issuer: ISS }, url: 'https://i.example/a' });
  });

  it('names every missing member it needs', async () => {
    const r = await run(
      { 'https://i.example/a': { status: 200, json: good } },
      ['jwks_uri', 'token_endpoint'],
      ['https://i.example/a'],
    );
    expect(r).toEqual({
      ok: false,
      reason: 'https://i.example/a has no token_endpoint',
      asked: ['https://i.example/a'],
    });
  });

  it('has a reason when there is nothing to ask', async () => {
    expect(await run({}, [], [])).toEqual({ ok: false, reason: 'no metadata URL', asked: [] });
  });

  it('stops when a candidate throws', async () => {
    await expect(run({}, [], ['https://i.example/x'])).rejects.toThrow('unexpected https://i.example/x');
  });
});

describe('sameIssuer: exact, or one trailing slash apart for an issuer taken from a base URL', () => {
  it.each<[unknown, string, boolean, boolean]>([
    ['https://t.auth0.com/', 'https://t.auth0.com', true, true],
    ['https://t.auth0.com', 'https://t.auth0.com/', true, true],
    ['https://t.auth0.com/', 'https://t.auth0.com/', false, true],
    ['https://t.auth0.com/', 'https://t.auth0.com', false, false],
    ['https://t.auth0.com', 'https://t.auth0.com/', false, false],
    ['https://t.auth0.com//', 'https://t.auth0.com', true, false],
    ['https://t.auth0.com', 'https://t.auth0.com//', true, false],
    ['https://t.auth0.com/x', 'https://t.auth0.com', true, false],
    ['https://T.auth0.com/', 'https://t.auth0.com', true, false],
    [undefined, 'https://t.auth0.com', true, false],
    [42, 'https://t.auth0.com', true, false],
  ])('sameIssuer(%j, %j, fromBaseUrl=%s) = %s', (documented, issuer, fromBaseUrl, want) => {
    expect(sameIssuer(documented, issuer, fromBaseUrl)).toBe(want);
  });

  it('discoverMetadata takes the document’s spelling only when told the issuer is a base URL', async () => {
    const doc = { issuer: 'https://i.example/', jwks_uri: 'https://i.example/jwks' };
    const get = async () => ({ status: 200, json: doc });
    expect((await discoverMetadata('https://i.example', ['u'], get, [], true)).ok).toBe(true);
    expect(await discoverMetadata('https://i.example', ['u'], get, [], false)).toEqual({
      ok: false,
      reason: 'u has issuer https://i.example/, expected https://i.example',
    });
  });
});
