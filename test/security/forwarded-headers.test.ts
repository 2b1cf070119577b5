/**
 * Issue 13 item 9: headers that claim where a request came from are the client's to forge when it
 * calls the Function URL directly (and CloudFront passes viewer headers on). None of them reaches
 * the upstream; the proxy sends the address Lambda saw (`requestContext.http.sourceIp`) as
 * `X-Forwarded-For`, and nothing else about the client's address.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installAwsLambdaGlobal, RuntimeResponseStream } from '../../bin/local/awslambda.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { SOURCE_IP_HEADER } from '../../functions/shared/function-url.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
  });
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});

const FORGED: Record<string, string> = {
  'X-Forwarded-For': '203.0.113.7',
  'X-Forwarded-Port': '8443',
  'X-Forwarded-Ssl': 'on',
  Forwarded: 'for=203.0.113.7;proto=https',
  'X-Real-IP': '203.0.113.7',
  'True-Client-IP': '203.0.113.7',
  'X-Client-IP': '203.0.113.7',
  'X-Cluster-Client-IP': '203.0.113.7',
  'X-Originating-IP': '203.0.113.7',
  'X-Remote-IP': '203.0.113.7',
  'X-Remote-Addr': '203.0.113.7',
  'CF-Connecting-IP': '203.0.113.7',
  'Fastly-Client-IP': '203.0.113.7',
  'CloudFront-Viewer-Address': '203.0.113.7:443',
  'CloudFront-Viewer-Country': 'ZZ',
  'CloudFront-Is-Desktop-Viewer': 'true',
  'CloudFront-Forwarded-Proto': 'https',
  'X-Amz-Cf-Id': 'forged',
  X_Real_IP: '203.0.113.7', // the `_` spelling CGI-style servers fold into `-`
  [SOURCE_IP_HEADER]: '203.0.113.7',
};

it('forged address headers never reach the upstream; X-Forwarded-For is the address Lambda saw', async () => {
  upstream.seen.length = 0;
  const res = await fetch(`${proxy.url}/mcp`, {
    method: 'POST',
    headers: {
      ...FORGED,
      authorization: `Bearer ${await idp.sign({ aud: `${proxy.url}/mcp` })}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  expect(res.status).toBe(200);
  expect(upstream.seen).toHaveLength(1);
  const seen = upstream.seen[0]!.headers;
  expect(JSON.stringify(seen)).not.toContain('203.0.113.7');
  const names = Object.keys(seen).map((k) => k.replace(/_/g, '-'));
  for (const name of Object.keys(FORGED)) {
    if (name.toLowerCase() !== 'x-forwarded-for')
      expect(names).not.toContain(name.toLowerCase().replace(/_/g, '-'));
  }
  // The local runner's sourceIp is the loopback peer, as Lambda's is the caller's address.
  expect(seen['x-forwarded-for']).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
  expect(seen['x-forwarded-proto']).toBe('http');
});

it('on Lambda, X-Forwarded-For is requestContext.http.sourceIp, not the event header the client wrote', async () => {
  installAwsLambdaGlobal();
  const { buildHandler } = await import('../../functions/proxy/index.ts');
  const host = 'abc.lambda-url.eu-west-1.on.aws';
  const handler = buildHandler(
    parseConfig({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    }),
  );
  const event = {
    version: '2.0',
    rawPath: '/mcp',
    rawQueryString: '',
    headers: {
      host,
      authorization: `Bearer ${await idp.sign({ aud: `https://${host}/mcp` })}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      // What a Function URL event carries when the client sent its own X-Forwarded-For.
      'x-forwarded-for': '203.0.113.7, 198.51.100.9',
      'cloudfront-viewer-address': '203.0.113.7:443',
    },
    requestContext: { domainName: host, http: { method: 'POST', sourceIp: '198.51.100.9' } },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  let ended!: () => void;
  const done = new Promise<void>((r) => {
    ended = r;
  });
  const stream = new RuntimeResponseStream(
    () => {},
    () => ended(),
  );
  const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  upstream.seen.length = 0;
  await handler(event, stream as never, context);
  await done;
  expect(upstream.seen).toHaveLength(1);
  expect(upstream.seen[0]!.headers['x-forwarded-for']).toBe('198.51.100.9');
  expect(upstream.seen[0]!.headers['cloudfront-viewer-address']).toBeUndefined();
  expect(JSON.stringify(upstream.seen[0]!.headers)).not.toContain('203.0.113.7');
});
