/**
 * Issue 13 item 2: behind CloudFront, the Function URLs refuse requests without the origin
 * secret CloudFront adds. The guard alone (caching, rotation, failures), its Secrets Manager
 * reader (the Parameters and Secrets extension's HTTP contract), and both real handlers through
 * the local runner: direct calls (missing, wrong, duplicated header) get 403 and reach neither
 * the upstream nor the IdP; the single-origin runner adds the header as CloudFront does.
 */
import http from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalDiscovery, startLocalProxy, startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import {
  createOriginGuard,
  extensionSecretSource,
  ORIGIN_SECRET_HEADER,
} from '../../functions/shared/origin-secret.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { freePort, serve, type TestServer } from '../helpers/net.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const SECRET = `${'a'.repeat(40)}CURRENT-origin-secret`;
const OLD = `${'b'.repeat(40)}PREVIOUS-origin-secret`;
const event = (headers: Record<string, string>) => ({ headers }) as unknown as APIGatewayProxyEventV2;

describe('createOriginGuard', () => {
  it('admits the current and the previous value, refuses others with 403, reads the secret once', async () => {
    let reads = 0;
    const guard = createOriginGuard(async () => {
      reads++;
      return [SECRET, OLD];
    });
    expect(await guard.admit(event({ [ORIGIN_SECRET_HEADER]: SECRET }))).toBeUndefined();
    expect(await guard.admit(event({ [ORIGIN_SECRET_HEADER]: OLD }))).toBeUndefined();
    const wrong = await guard.admit(event({ [ORIGIN_SECRET_HEADER]: `${SECRET}x` }));
    expect(wrong?.status).toBe(403);
    expect(await wrong?.json()).toEqual({
      error: 'forbidden',
      error_description: 'requests must come through the distribution',
    });
    expect(reads).toBe(2); // the unknown value made it read the secret once more
  });

  it('refuses a missing or empty header without reading the secret', async () => {
    let reads = 0;
    const guard = createOriginGuard(async () => {
      reads++;
      return [SECRET];
    });
    expect((await guard.admit(event({})))?.status).toBe(403);
    expect((await guard.admit(event({ [ORIGIN_SECRET_HEADER]: '' })))?.status).toBe(403);
    expect(reads).toBe(0);
  });

  it('after a rotation, an unknown value makes the instance re-read the secret, at most once per 10 s', async () => {
    let t = 1_000_000;
    let values = [OLD];
    let reads = 0;
    const guard = createOriginGuard(
      async () => {
        reads++;
        return values;
      },
      { now: () => t },
    );
    expect(await guard.admit(event({ [ORIGIN_SECRET_HEADER]: OLD }))).toBeUndefined();
    t += 11_000;
    values = [SECRET, OLD]; // rotated; CloudFront starts sending the new value
    expect(await guard.admit(event({ [ORIGIN_SECRET_HEADER]: SECRET }))).toBeUndefined();
    expect(reads).toBe(2);
    // A flood of wrong values: one re-read per 10 s, not one per request.
    for (let i = 0; i < 20; i++)
      expect((await guard.admit(event({ [ORIGIN_SECRET_HEADER]: 'x'.repeat(40) })))?.status).toBe(403);
    expect(reads).toBe(2);
    t += 10_001;
    await guard.admit(event({ [ORIGIN_SECRET_HEADER]: 'x'.repeat(40) }));
    expect(reads).toBe(3);
  });

  it('fails closed (503) when the secret was never read, and keeps values read before on a later failure', async () => {
    let t = 0;
    let fail = true;
    const guard = createOriginGuard(
      async () => {
        if (fail) throw new Error('extension unreachable');
        return [SECRET];
      },
      { now: () => t },
    );
    const res = await guard.admit(event({ [ORIGIN_SECRET_HEADER]: SECRET }));
    expect(res?.status).toBe(503);
    expect(res?.headers.get('retry-after')).toBe('5');
    fail = false;
    expect(await guard.admit(event({ [ORIGIN_SECRET_HEADER]: SECRET }))).toBeUndefined();
    fail = true;
    t += 600_000; // past the TTL: the re-read fails, the value read before still counts
    expect(await guard.admit(event({ [ORIGIN_SECRET_HEADER]: SECRET }))).toBeUndefined();
  });

  it('refuses a secret too short to be the generated one (misconfigured, 502)', async () => {
    const guard = createOriginGuard(async () => ['short']);
    expect((await guard.admit(event({ [ORIGIN_SECRET_HEADER]: 'short' })))?.status).toBe(502);
  });
});

describe('extensionSecretSource: the Parameters and Secrets extension contract', () => {
  let ext: TestServer;
  const seen: { url: string; token: string | undefined }[] = [];
  let previous: string | undefined = OLD;
  beforeAll(async () => {
    ext = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ url: req.url ?? '', token: req.headers['x-aws-parameters-secrets-token'] as string });
      const stage = url.searchParams.get('versionStage');
      const value = stage === 'AWSCURRENT' ? SECRET : stage === 'AWSPREVIOUS' ? previous : undefined;
      if (url.pathname !== '/secretsmanager/get' || value === undefined) {
        res.writeHead(400).end('ResourceNotFoundException');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Name: url.searchParams.get('secretId'), SecretString: value }));
    });
  });
  afterAll(() => ext?.close());

  it('reads AWSCURRENT and AWSPREVIOUS with the session token; a never-rotated secret has only the current value', async () => {
    const port = Number(new URL(ext.url).port);
    const read = extensionSecretSource('arn:aws:secretsmanager:eu-west-1:1:secret:o', { port, token: 'tok' });
    expect(await read()).toEqual([SECRET, OLD]);
    expect(seen.map((s) => s.token)).toEqual(['tok', 'tok']);
    expect(seen.map((s) => new URL(s.url, 'http://x').searchParams.get('secretId'))).toEqual([
      'arn:aws:secretsmanager:eu-west-1:1:secret:o',
      'arn:aws:secretsmanager:eu-west-1:1:secret:o',
    ]);
    previous = undefined;
    expect(await read()).toEqual([SECRET]);
  });

  it('fails when the current value cannot be read', async () => {
    const read = extensionSecretSource('x', { port: await freePort(), token: 'tok', timeoutMs: 500 });
    await expect(read()).rejects.toThrow();
  });
});

/** A raw request, so that one header can be sent twice. */
function raw(
  url: string,
  path: string,
  headerLines: [string, string][],
  body = '{"jsonrpc":"2.0","id":1,"method":"ping"}',
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: 'POST', headers: headerLines.flat() as never },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('both functions through the local runner, with the origin secret on', () => {
  let idp: TestIssuer;
  let upstream: FakeUpstream;
  let demoIdp: DemoIdp;
  let proxy: RunningServer;
  let discovery: RunningServer;
  let idpCalls = 0;

  beforeAll(async () => {
    idp = await startTestIssuer();
    upstream = await startFakeUpstream();
    const idpPort = await freePort();
    demoIdp = await startDemoIdp({
      port: idpPort,
      resourcePrefixes: ['http://localhost:1'],
      openRegistration: true,
    });
    const recordingFetch: typeof fetch = (input, init) => {
      idpCalls++;
      return fetch(input, init);
    };
    proxy = await startLocalProxy(
      parseConfig({
        provider: 'oidc',
        base_url: upstream.url,
        default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      }),
      { port: await freePort(), originSecret: SECRET },
    );
    discovery = await startLocalDiscovery(
      parseConfig({ provider: 'embedded', embedded: { port: idpPort }, base_url: 'http://localhost:1' }),
      { originSecret: SECRET, handler: { fetch: recordingFetch } },
    );
  });
  afterAll(async () => {
    await proxy?.close();
    await discovery?.close();
    await demoIdp?.close();
    await upstream?.close();
    await idp?.close();
  });

  const mcpHeaders = async (): Promise<[string, string][]> => [
    ['authorization', `Bearer ${await idp.sign({ aud: `${proxy.url}/mcp` })}`],
    ['content-type', 'application/json'],
    ['accept', 'application/json, text/event-stream'],
    ['host', new URL(proxy.url).host],
  ];
  const hostile: [string, [string, string][]][] = [
    ['missing', []],
    ['wrong', [[ORIGIN_SECRET_HEADER, `${SECRET.slice(0, -1)}X`]]],
    ['a prefix of it', [[ORIGIN_SECRET_HEADER, SECRET.slice(0, 40)]]],
    [
      'twice (joined with a comma, as Lambda does)',
      [
        [ORIGIN_SECRET_HEADER, SECRET],
        [ORIGIN_SECRET_HEADER, SECRET],
      ],
    ],
    [
      'with another spelling of the name',
      [
        ['X-MCP-Auth-Origin-Secret', 'nope'],
        ['x_mcp_auth_origin_secret', SECRET],
      ],
    ],
  ];

  it.each(hostile)('proxy: origin secret %s → 403, nothing upstream', async (_name, lines) => {
    upstream.seen.length = 0;
    const res = await raw(proxy.url, '/mcp', [...(await mcpHeaders()), ...lines]);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toBe('forbidden');
    expect(upstream.seen).toHaveLength(0);
  });

  it.each(hostile)('discovery: origin secret %s → 403 on /register, no IdP call', async (_name, lines) => {
    const before = { calls: idpCalls, registrations: demoIdp.registrations() };
    const res = await raw(
      discovery.url,
      '/register',
      [['content-type', 'application/json'], ['host', new URL(discovery.url).host], ...lines],
      JSON.stringify({ redirect_uris: ['http://127.0.0.1:3/cb'], token_endpoint_auth_method: 'none' }),
    );
    expect(res.status).toBe(403);
    expect({ calls: idpCalls, registrations: demoIdp.registrations() }).toEqual(before);
  });

  it('proxy: the right value passes, and the upstream never sees the header', async () => {
    upstream.seen.length = 0;
    const res = await raw(proxy.url, '/mcp', [...(await mcpHeaders()), [ORIGIN_SECRET_HEADER, SECRET]]);
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(Object.keys(upstream.seen[0]!.headers)).not.toContain(ORIGIN_SECRET_HEADER);
  });

  it('discovery: the right value passes (public metadata answers)', async () => {
    const res = await fetch(`${discovery.url}/.well-known/oauth-authorization-server`, {
      headers: { [ORIGIN_SECRET_HEADER]: SECRET },
    });
    expect(res.status).toBe(200);
  });
});

describe('the single-origin runner adds the header, as CloudFront does', () => {
  it('a client that sends no secret (or a wrong one) gets through; the upstream sees none', async () => {
    const idp = await startTestIssuer();
    const upstream = await startFakeUpstream();
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const server = await startLocalSingleOrigin(
      parseConfig({
        provider: 'oidc',
        base_url: upstream.url,
        default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
        discovery: { base_url: origin },
      }),
      { port, originSecret: SECRET },
    );
    try {
      const headers = {
        authorization: `Bearer ${await idp.sign({ aud: `${origin}/mcp` })}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      };
      expect(
        (
          await fetch(`${origin}/mcp`, {
            method: 'POST',
            headers,
            body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
          })
        ).status,
      ).toBe(200);
      const overwritten = { ...headers, [ORIGIN_SECRET_HEADER]: 'forged' };
      expect(
        (
          await fetch(`${origin}/mcp`, {
            method: 'POST',
            headers: overwritten,
            body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
          })
        ).status,
      ).toBe(200);
      expect((await fetch(`${origin}/.well-known/oauth-authorization-server`)).status).toBe(200);
      expect(upstream.seen.flatMap((s) => Object.keys(s.headers))).not.toContain(ORIGIN_SECRET_HEADER);
    } finally {
      await server.close();
      await upstream.close();
      await idp.close();
    }
  });
});
