/**
 * Issue 13 item 2 through what Lambda runs: synthesize the CloudFront variant with bundling,
 * load both bundles under the `awslambda` global with the environment from the template, and
 * answer the Parameters and Secrets extension's localhost API with a fake (the port and the SSRF
 * token come from the environment, as on Lambda). Without the header both bundles answer 403;
 * with the secret CloudFront sends, the request goes on; a wrong value reaches nothing.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DELIMITER,
  handlerStream,
  installAwsLambdaGlobal,
  RuntimeResponseStream,
} from '../../bin/local/awslambda.ts';
import { ORIGIN_SECRET_ENV, ORIGIN_SECRET_HEADER } from '../../functions/shared/origin-secret.ts';
import { buildApp } from '../../lib/app.ts';
import { PROJECT_ROOT } from '../../lib/mcp-auth-proxy.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { serve, type TestServer } from '../helpers/net.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';
import { evaluate } from './helpers.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:origin-AbCdEf';
const SECRET = 'Zq'.repeat(32);
const TOKEN = 'session-token-of-the-function';
const event = (name: string) =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', name), 'utf8')) as APIGatewayProxyEventV2;

let idp: TestIssuer;
let upstream: FakeUpstream;
let extension: TestServer;
const extensionCalls: { secretId: string | null; token: unknown }[] = [];
// biome-ignore lint/suspicious/noExplicitAny: handlers loaded from the bundles
let handlers: { proxy: any; discovery: any };
let proxySize = 0;

const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

async function invokeProxy(e: APIGatewayProxyEventV2): Promise<number> {
  const chunks: Buffer[] = [];
  let ended!: () => void;
  const done = new Promise<void>((r) => {
    ended = r;
  });
  await handlers.proxy(
    e,
    handlerStream(
      new RuntimeResponseStream(
        (c) => chunks.push(c),
        () => ended(),
      ),
    ),
    context,
  );
  await done;
  const all = Buffer.concat(chunks);
  return JSON.parse(all.subarray(0, all.indexOf(DELIMITER)).toString()).statusCode;
}
const invokeDiscovery = async (e: APIGatewayProxyEventV2) =>
  ((await handlers.discovery(e, context)) as APIGatewayProxyStructuredResultV2).statusCode;
const withHeader = (e: APIGatewayProxyEventV2, value?: string) => ({
  ...e,
  headers: { ...e.headers, ...(value === undefined ? {} : { [ORIGIN_SECRET_HEADER]: value }) },
});

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  extension = await serve((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    extensionCalls.push({
      secretId: url.searchParams.get('secretId'),
      token: req.headers['x-aws-parameters-secrets-token'],
    });
    // The generated proxy secret (session binding, lib/proxy-secret.ts), through the same extension.
    if (
      url.pathname === '/systemsmanager/parameters/get' &&
      req.headers['x-aws-parameters-secrets-token'] === TOKEN
    ) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Parameter: { Name: url.searchParams.get('name'), Value: 'p'.repeat(64) } }));
      return;
    }
    if (
      req.headers['x-aws-parameters-secrets-token'] !== TOKEN ||
      url.searchParams.get('versionStage') !== 'AWSCURRENT'
    ) {
      res.writeHead(400).end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ SecretString: SECRET }));
  });
  const raw = {
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    deploy: {
      stack_name: 'OriginSecretBundleTest',
      generate_signing_key: false, // no SSM here to read a generated key from (signing-key.test.ts does)
      cloudfront: {
        domain_name: 'mcp.example.com',
        certificate_arn:
          'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      },
    },
  };
  const { app, stack } = buildApp(raw, {
    outdir: mkdtempSync(join(tmpdir(), 'cdk-origin-')),
    context: { 'aws:cdk:enable-asset-metadata': true },
  });
  const assembly = app.synth();
  const resources = assembly.getStackByName(stack.stackName).template.Resources as Record<
    string,
    { Type: string; Properties: { Environment: { Variables: unknown } }; Metadata: Record<string, string> }
  >;
  const attrs = {
    McpAuthProxyOriginSecret: SECRET_ARN,
    McpAuthProxyProxyFunctionFunctionUrl: 'https://p.lambda-url.eu-west-1.on.aws/',
    McpAuthProxyDiscoveryFunctionFunctionUrl: 'https://d.lambda-url.eu-west-1.on.aws/',
  };
  const find = (prefix: string) => {
    const r = Object.entries(resources).find(
      ([id, x]) => id.startsWith(prefix) && x.Type === 'AWS::Lambda::Function',
    )![1];
    return {
      dir: join(assembly.directory, r.Metadata['aws:asset:path']!),
      env: evaluate(r.Properties.Environment.Variables, attrs) as Record<string, string>,
    };
  };
  const proxy = find('McpAuthProxyProxyFunction');
  const discovery = find('McpAuthProxyDiscoveryFunction');
  expect(proxy.env[ORIGIN_SECRET_ENV]).toBe(SECRET_ARN);
  expect(discovery.env[ORIGIN_SECRET_ENV]).toBe(SECRET_ARN);
  proxySize = statSync(join(proxy.dir, 'index.mjs')).size;

  installAwsLambdaGlobal();
  process.env.AWS_LAMBDA_LOG_LEVEL = 'ERROR';
  process.env.AWS_SESSION_TOKEN = TOKEN;
  // The template sets the extension's port (2773); here the fake extension's port replaces it.
  const port = { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: new URL(extension.url).port };
  expect(proxy.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT).toBe('2773');
  const saved = { ...process.env };
  Object.assign(process.env, proxy.env, port);
  const proxyMod = await import(pathToFileURL(join(proxy.dir, 'index.mjs')).href);
  process.env = { ...saved, ...discovery.env, ...port };
  const discoveryMod = await import(pathToFileURL(join(discovery.dir, 'index.mjs')).href);
  handlers = { proxy: proxyMod.handler, discovery: discoveryMod.handler };
  // The discovery handler is built on its first call, under its own environment.
  await invokeDiscovery(event('discovery-get-authorization-server-metadata.json'));
  process.env = saved;
}, 120_000);

afterAll(async () => {
  await extension?.close();
  await upstream?.close();
  await idp?.close();
});

it('the proxy bundle: 403 without the header or with a wrong one (nothing upstream); the secret lets it through', async () => {
  process.stderr.write(`[origin secret bundle] proxy index.mjs ${proxySize} bytes\n`);
  const base = withHeader(event('proxy-post-mcp-no-token.json'));
  const token = await idp.sign({ aud: 'https://mcp.example.com/mcp' });
  const authed = { ...base, headers: { ...base.headers, authorization: `Bearer ${token}` } };
  upstream.seen.length = 0;
  expect(await invokeProxy(authed)).toBe(403);
  expect(await invokeProxy(withHeader(authed, `${SECRET}x`))).toBe(403);
  expect(upstream.seen).toHaveLength(0);
  expect(await invokeProxy(withHeader(authed, SECRET))).toBe(200);
  expect(upstream.seen).toHaveLength(1);
  expect(upstream.seen[0]!.headers[ORIGIN_SECRET_HEADER]).toBeUndefined();
  expect(extensionCalls.some((c) => c.secretId === SECRET_ARN && c.token === TOKEN)).toBe(true);
});

it('the discovery bundle: 403 without the header, 200 with the secret', async () => {
  const metadata = event('discovery-get-authorization-server-metadata.json');
  expect(await invokeDiscovery(withHeader(metadata))).toBe(403);
  expect(await invokeDiscovery(withHeader(metadata, 'wrong'.repeat(10)))).toBe(403);
  expect(await invokeDiscovery(withHeader(metadata, SECRET))).toBe(200);
});
