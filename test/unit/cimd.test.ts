/**
 * Client ID Metadata Documents, the rules (cimd.ts: client id URLs, documents, cache lifetime) and
 * the fetch edge (cimd-fetch.ts: the SSRF guard inside the connection's DNS lookup, pinning to the
 * checked addresses, the cache of verified documents).
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientIdUrlProblem,
  documentCacheSeconds,
  validateDocument,
} from '../../functions/discovery/cimd.ts';
import {
  createDocumentFetch,
  createDocumentResolver,
  type DocumentFetch,
  guardedLookup,
} from '../../functions/discovery/cimd-fetch.ts';
import { ConfigError, parseConfig } from '../../functions/shared/config/index.ts';
import { OAuthError } from '../../functions/shared/errors.ts';
import { type DocumentHost, json, startDocumentHost } from '../helpers/document-host.ts';

const ID = 'https://app.example/oauth/client.json';
const good = { client_id: ID, client_name: 'App', redirect_uris: ['http://127.0.0.1:3000/callback'] };

const reasonOf = async (p: Promise<unknown>) => {
  const e = await p.catch((x) => x);
  expect(e).toBeInstanceOf(OAuthError);
  expect((e as OAuthError).status).toBe(400);
  expect((e as OAuthError).code).toBe('invalid_client');
  return (e as OAuthError).reason ?? '';
};

describe('clientIdUrlProblem (draft §3)', () => {
  it.each([
    ['https://app.example/client.json', undefined],
    ['https://app.example:8443/c?v=1', undefined],
    ['http://app.example/client.json', /https/],
    ['https://app.example/', /path/],
    ['https://app.example', /path/],
    ['https://app.example/a/./b', /normalised/],
    ['https://app.example/a/%2e%2e/b', /normalised/],
    ['https://app.example/c#frag', /fragment/],
    ['https://u@app.example/c', /user information/],
    ['https://App.Example/c', /normalised/],
    ['https://app.example:443/c', /normalised/],
    ['https://', /not a URL/],
  ])('%s', (id, problem) => {
    const p = clientIdUrlProblem(id);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(problem);
  });
  it('refuses a URL over 2000 characters', () => {
    expect(clientIdUrlProblem(`https://app.example/${'a'.repeat(2000)}`)).toMatch(/too long/);
  });
});

describe('validateDocument (draft §4.1, MCP required fields)', () => {
  it('accepts a public client document and keeps its redirect URIs and name', () => {
    expect(validateDocument(ID, good)).toEqual({
      clientId: ID,
      host: 'app.example',
      name: 'App',
      redirectUris: ['http://127.0.0.1:3000/callback'],
    });
    expect(validateDocument(ID, { ...good, token_endpoint_auth_method: 'none' }).name).toBe('App');
  });

  it.each([
    ['not an object', [good], /not an object/],
    ['null', null, /not an object/],
    ['client_id differs', { ...good, client_id: 'https://app.example/other.json' }, /document client_id/],
    ['client_id with a trailing slash', { ...good, client_id: `${ID}/` }, /document client_id/],
    ['client_id missing', { ...good, client_id: undefined }, /document client_id/],
    ['client_secret', { ...good, client_secret: 'x' }, /client_secret/],
    ['client_secret_expires_at', { ...good, client_secret_expires_at: 0 }, /client_secret_expires_at/],
    ['client_secret_basic', { ...good, token_endpoint_auth_method: 'client_secret_basic' }, /auth_method/],
    ['client_secret_post', { ...good, token_endpoint_auth_method: 'client_secret_post' }, /auth_method/],
    ['client_secret_jwt', { ...good, token_endpoint_auth_method: 'client_secret_jwt' }, /auth_method/],
    ['private_key_jwt', { ...good, token_endpoint_auth_method: 'private_key_jwt' }, /auth_method/],
    ['no client_name', { ...good, client_name: undefined }, /client_name/],
    ['blank client_name', { ...good, client_name: '  ' }, /client_name/],
    ['no redirect_uris', { ...good, redirect_uris: undefined }, /redirect_uris/],
    ['empty redirect_uris', { ...good, redirect_uris: [] }, /redirect_uris/],
    ['a redirect URI with a fragment', { ...good, redirect_uris: ['https://a.example/cb#x'] }, /fragment/],
    ['http on a public host', { ...good, redirect_uris: ['http://a.example/cb'] }, /loopback/],
    ['no authorization_code grant', { ...good, grant_types: ['refresh_token'] }, /authorization_code/],
    ['response_types not code', { ...good, response_types: ['token'] }, /response_types/],
  ])('refuses a document: %s', (_what, doc, reason) => {
    let err: unknown;
    try {
      validateDocument(ID, doc);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).status).toBe(400);
    expect((err as OAuthError).code).toBe('invalid_client');
    expect((err as OAuthError).reason).toMatch(reason);
  });

  it('a private-use scheme only when the deployment allows it', () => {
    const doc = { ...good, redirect_uris: ['cursor://cb'] };
    expect(() => validateDocument(ID, doc)).toThrow(OAuthError);
    expect(validateDocument(ID, doc, ['cursor']).redirectUris).toEqual(['cursor://cb']);
  });
});

describe('documentCacheSeconds (RFC 9111, bounded)', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  it.each([
    [null, null, null, 300],
    ['max-age=600', null, null, 600],
    ['public, max-age=10', null, null, 60],
    ['max-age=999999', null, null, 3600],
    ['max-age=0', null, null, 0],
    ['no-store', null, null, 0],
    ['no-cache, max-age=600', null, null, 0],
    ['max-age="120"', null, null, 120],
    [null, 'Tue, 01 Dec 2026 00:10:00 GMT', 'Tue, 01 Dec 2026 00:00:00 GMT', 600],
    [null, 'Tue, 01 Dec 2026 00:10:00 GMT', null, 600],
    [null, 'yesterday', null, 0],
    [null, 'Mon, 30 Nov 2026 00:00:00 GMT', null, 0],
    ['max-age=120', 'Mon, 30 Nov 2026 00:00:00 GMT', null, 120],
  ])('Cache-Control %s, Expires %s, Date %s → %i s', (cc, exp, date, seconds) => {
    expect(documentCacheSeconds(cc, exp, date, now)).toBe(seconds);
  });
});

describe('guardedLookup (DNS answer checked inside the connection)', () => {
  const lookup = (addrs: LookupAddress[], opts = {}) =>
    new Promise<{ err: Error | null; result: unknown }>((done) =>
      guardedLookup({ ...opts, resolve: async () => addrs })('h.example', { all: true }, (err, result) =>
        done({ err, result }),
      ),
    );
  it('hands on exactly the checked addresses', async () => {
    const addrs = [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ];
    expect(await lookup(addrs)).toEqual({ err: null, result: addrs });
  });
  it.each([
    [[{ address: '127.0.0.1', family: 4 }], /loopback/],
    [[{ address: '10.1.2.3', family: 4 }], /private/],
    [[{ address: 'fd00:ec2::254', family: 6 }], /global unicast/],
    [[{ address: '::ffff:169.254.169.254', family: 6 }], /metadata/],
    // One bad answer among good ones (a rebinding attempt) refuses the name.
    [
      [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
      /169\.254\.169\.254/,
    ],
    [[], /no address/],
  ])('refuses %j', async (addrs, why) => {
    const { err } = await lookup(addrs);
    expect(err?.message).toMatch(why);
  });
});

describe('createDocumentFetch against an https host on loopback', () => {
  let host: DocumentHost;
  beforeAll(async () => {
    host = await startDocumentHost({
      '/doc.json': json((o) => ({ client_id: `${o}/doc.json` }), { 'cache-control': 'max-age=90' }),
    });
  });
  afterAll(() => host?.close());
  const port = () => new URL(host.origin).port;

  it('connects to the address the guarded lookup checked (no second resolution)', async () => {
    // docs.test exists only in this resolver: the connection can only have used its answer.
    const fetchDoc = createDocumentFetch({
      allowLoopback: true,
      ca: host.ca,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const got = await fetchDoc(`https://docs.test:${port()}/doc.json`);
    expect(got).toEqual({ body: { client_id: `${host.origin}/doc.json` }, cacheSeconds: 90 });
  });

  it.each([
    ['loopback without the allowance', `https://docs.test:PORT/doc.json`, {}, /127\.0\.0\.1: loopback/],
    ['an IP literal (no lookup at all)', `https://127.0.0.1:PORT/doc.json`, {}, /127\.0\.0\.1: loopback/],
    ['a private IP literal', 'https://10.0.0.1/doc.json', {}, /10\.0\.0\.1: private/],
    ['a mapped IPv6 literal', 'https://[::ffff:a9fe:a9fe]/doc.json', {}, /metadata/],
    ['http', `http://docs.test:PORT/doc.json`, {}, /not https/],
  ])('refuses %s; the host sees nothing', async (_what, url, opts, reason) => {
    const before = host.hits();
    const fetchDoc = createDocumentFetch({
      ca: host.ca,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      ...opts,
    });
    expect(await reasonOf(fetchDoc(url.replace('PORT', port())))).toMatch(reason);
    expect(host.hits()).toBe(before);
  });

  it('TLS is verified: an untrusted certificate is refused', async () => {
    const fetchDoc = createDocumentFetch({ allowLoopback: true });
    expect(await reasonOf(fetchDoc(`${host.origin}/doc.json`))).toMatch(/certificate/i);
  });
});

describe('createDocumentResolver (per-instance cache)', () => {
  it('caches verified documents for their lifetime, never invalid ones', async () => {
    let t = 0;
    let calls = 0;
    let body: unknown = good;
    const fetchDoc: DocumentFetch = async () => {
      calls++;
      return { body, cacheSeconds: 60 };
    };
    const r = createDocumentResolver(fetchDoc, [], { now: () => t });
    await r.resolve(ID);
    await r.resolve(ID);
    expect(calls).toBe(1);
    t = 61_000;
    await r.resolve(ID);
    expect(calls).toBe(2);
    body = { ...good, client_id: 'https://x.example/c' };
    t = 200_000;
    await expect(r.resolve(ID)).rejects.toBeInstanceOf(OAuthError);
    await expect(r.resolve(ID)).rejects.toBeInstanceOf(OAuthError);
    expect(calls).toBe(4); // the invalid document was fetched again, not cached
  });

  it('one fetch for concurrent requests; URL problems refused without a fetch', async () => {
    let calls = 0;
    const r = createDocumentResolver(async () => {
      calls++;
      return { body: good, cacheSeconds: 0 };
    }, []);
    await Promise.all([r.resolve(ID), r.resolve(ID), r.resolve(ID)]);
    expect(calls).toBe(1);
    expect(await reasonOf(r.resolve('https://app.example/'))).toMatch(/path/);
    expect(calls).toBe(1);
  });
});

describe('config (discovery.cimd_idp_client_*)', () => {
  const base = (discovery: Record<string, unknown>) => ({
    provider: 'embedded',
    base_url: 'http://localhost:3000',
    discovery: { signing_key: 'k'.repeat(32), ...discovery },
  });
  it('is on with the relay and an IdP client; off when turned off or without an IdP client', () => {
    expect(parseConfig(base({ cimd_idp_client_id: 'c' })).discovery.clientIdMetadataDocuments).toEqual({
      idpClientId: 'c',
      idpClientSecret: undefined,
    });
    expect(
      parseConfig(base({ cimd_idp_client_id: 'c', client_id_metadata_documents: false })).discovery
        .clientIdMetadataDocuments,
    ).toBeUndefined();
    expect(parseConfig(base({})).discovery.clientIdMetadataDocuments).toBeUndefined();
  });
  it.each([
    [{ signing_key: undefined, cimd_idp_client_id: 'c' }, 'discovery.cimd_idp_client_id', /signing_key/],
    [{ consent: 'off', cimd_idp_client_id: 'c' }, 'discovery.cimd_idp_client_id', /consent: required/],
    [{ cimd_idp_client_secret: 's' }, 'discovery.cimd_idp_client_secret', /cimd_idp_client_id/],
  ])('refuses %j naming the key', (discovery, key, why) => {
    let err: unknown;
    try {
      parseConfig(base(discovery));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(key);
    expect((err as ConfigError).message).toMatch(why);
  });
});
