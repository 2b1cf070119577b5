/**
 * The signed identity for the upstream (issue 11 item 6; functions/proxy/upstream-identity.ts):
 * the verifier of docs/upstream-identity.md — that very code, extracted from the page — run in a
 * fake upstream behind the real proxy; the JWKS route; a client's own copy of the header dropped;
 * an expired or foreign JWT refused by the example; off by default (no header, no route).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveProxyKeys } from '../../functions/proxy/proxy-keys.ts';
import { signIdentity } from '../../functions/proxy/upstream-identity.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'upstream-identity-test-secret-0123456789';
const JWKS = '/.well-known/mcp-auth-proxy/jwks.json';

/** The one ```js block of docs/upstream-identity.md, written where it can import jose. */
function docsExample(): string {
  const page = readFileSync(join(ROOT, 'docs/upstream-identity.md'), 'utf8');
  const blocks = [...page.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  const file = join(ROOT, 'tmp', `upstream-identity-example-${process.pid}.mjs`);
  writeFileSync(file, blocks[0]!);
  return file;
}

type Caller = { subject: string; clientId?: string; scopes: string[] };
let exampleFile: string;
let callerOf: (req: { headers: http.IncomingHttpHeaders }) => Promise<Caller>;
let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;
let plain: ProxyUnderTest;
const verified: (Caller | string)[] = [];

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  const config = {
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { audience: ['mcp-test'] },
    proxy_secret: SECRET,
  };
  proxy = await startProxy({ ...config, upstream_identity: { enabled: true } });
  plain = await startProxy(config);
  process.env.MCP_PROXY_ORIGIN = proxy.url;
  process.env.MCP_UPSTREAM_AUDIENCE = upstream.url;
  exampleFile = docsExample();
  ({ callerOf } = await import(pathToFileURL(exampleFile).href));
  upstream.setHandler(async (req, res) => {
    verified.push(await callerOf(req).catch((e: Error) => `refused: ${e.name}`));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
afterAll(async () => {
  if (exampleFile) rmSync(exampleFile);
  await proxy?.close();
  await plain?.close();
  await upstream?.close();
  await idp?.close();
});

const post = async (base: string, headers: Record<string, string> = {}, claims = {}) =>
  fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await idp.sign({ aud: 'mcp-test', ...claims })}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });

describe('upstream_identity on', () => {
  it('the docs example verifies the identity the proxy signed for each request', async () => {
    verified.length = 0;
    const res = await post(proxy.url, {}, { sub: 'alice', client_id: 'app-1', scope: 'mcp:tools mcp:read' });
    expect(res.status).toBe(200);
    expect(verified).toEqual([{ subject: 'alice', clientId: 'app-1', scopes: ['mcp:tools', 'mcp:read'] }]);
    // The plain identity headers stay.
    expect(upstream.seen.at(-1)!.headers['x-mcp-auth-subject']).toBe('alice');
  });

  it('a client’s own copy of the header (any spelling) never reaches the upstream', async () => {
    verified.length = 0;
    // Even one the proxy itself signed (for another subject, replayed) is replaced.
    const forged = await signIdentity(
      deriveProxyKeys(SECRET),
      proxy.config.upstreamIdentity,
      { subject: 'mallory', scopes: ['admin'], issuer: idp.issuer, claims: {} },
      proxy.url,
    );
    await post(proxy.url, { 'x-mcp-auth-jwt': forged, X_MCP_AUTH_JWT: forged }, { sub: 'bob' });
    expect(verified).toEqual([{ subject: 'bob', clientId: 'client-1', scopes: ['mcp:tools'] }]);
    const sent = Object.entries(upstream.seen.at(-1)!.headers).filter(
      ([k]) => k.replace(/_/g, '-') === 'x-mcp-auth-jwt',
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]![1]).not.toBe(forged);
  });

  it('the example refuses a JWT signed with another key, and an expired one', async () => {
    const cfg = proxy.config.upstreamIdentity;
    const who = { subject: 'alice', scopes: [], issuer: idp.issuer, claims: {} };
    const other = await signIdentity(deriveProxyKeys('b'.repeat(40)), cfg, who, proxy.url);
    const expired = await signIdentity(deriveProxyKeys(SECRET), cfg, who, proxy.url, Date.now() - 120_000);
    const good = await signIdentity(deriveProxyKeys(SECRET), cfg, who, proxy.url);
    const outcome = (jwt: string) =>
      callerOf({ headers: { 'x-mcp-auth-jwt': jwt } }).then(
        (c) => c.subject,
        (e: Error) => e.name,
      );
    expect(await outcome(good)).toBe('alice');
    expect(await outcome(other)).toBe('JWKSNoMatchingKey');
    expect(await outcome(expired)).toBe('JWTExpired');
  });

  it('serves the JWKS: public, cacheable, one Ed25519 key with its RFC 7638 thumbprint as kid', async () => {
    const res = await fetch(`${proxy.url}${JWKS}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    const jwk = deriveProxyKeys(SECRET).identityPublicJwk;
    expect(keys).toEqual([
      { ...jwk, kid: await calculateJwkThumbprint(jwk as never), alg: 'EdDSA', use: 'sig' },
    ]);
    expect(keys[0]).not.toHaveProperty('d');
  });
});

describe('upstream_identity off (the default)', () => {
  it('sends no identity JWT and serves no JWKS', async () => {
    const before = upstream.seen.length;
    await post(plain.url);
    expect(upstream.seen).toHaveLength(before + 1);
    expect(upstream.seen.at(-1)!.headers['x-mcp-auth-jwt']).toBeUndefined();
    expect((await fetch(`${plain.url}${JWKS}`)).status).toBe(404);
  });
});
