/**
 * The assets `cdk synth` produces are what Lambda runs: bundle once (esbuild, locally), load
 * each bundle under the faithful `awslambda` global with the environment from the synthesized
 * template, invoke every events/ sample, and compare with the same request through the local
 * runner hosting the TypeScript sources. Also: no AWS SDK in the proxy, and a size budget.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DELIMITER,
  handlerStream,
  installAwsLambdaGlobal,
  PRELUDE_CONTENT_TYPE,
  RuntimeResponseStream,
} from '../../bin/local/awslambda.ts';
import { type RunningServer, startFunctionUrlServer } from '../../bin/local/function-url-server.ts';
import { configFromEnv } from '../../functions/shared/config/index.ts';
import { buildApp } from '../../lib/app.ts';
import { PROJECT_ROOT } from '../../lib/mcp-auth-proxy.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import type { TestServer } from '../helpers/net.ts';
import { startProxySecretExtension } from '../helpers/secrets-extension.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';
import { evaluate } from './helpers.ts';

/**
 * Measured 2026-12-01: 385,xxx bytes since upstream.ts imports only the undici modules it uses
 * (626,xxx with the package index: fetch, WebSocket, cache, mocks; docs/performance.md); 425,309
 * with the MCP layer, the session binding and the identity JWT (issue 11). Its size is the cold
 * start's biggest cost: raise deliberately, not by accident.
 */
const PROXY_BUNDLE_MAX_BYTES = 440_000;

const EVENTS_DIR = join(PROJECT_ROOT, 'events');
const loadEvent = (name: string) =>
  JSON.parse(readFileSync(join(EVENTS_DIR, name), 'utf8')) as APIGatewayProxyEventV2;
const PROXY_HOST = loadEvent('proxy-get-protected-resource-metadata.json').requestContext.domainName;
const DISCOVERY_HOST = loadEvent('discovery-get-authorization-server-metadata.json').requestContext
  .domainName;

interface Bundle {
  logicalId: string;
  dir: string;
  env: Record<string, string>;
}
interface Result {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let idp: TestIssuer;
let upstream: FakeUpstream;
/** The Parameters and Secrets extension's HTTP API on loopback: the generated proxy secret. */
let extension: TestServer;
let bundles: { proxy: Bundle; discovery: Bundle };
let runner: { proxy: RunningServer; discovery: RunningServer };
// biome-ignore lint/suspicious/noExplicitAny: handlers loaded from the bundles
let handlers: { proxy: any; discovery: any };

function context(event: APIGatewayProxyEventV2, name: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: event.requestContext.requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Invoke a streaming handler as the Lambda runtime does and decode the http-integration prelude. */
async function invokeStreaming(
  handler: (e: unknown, s: unknown, c: Context) => Promise<void>,
  event: APIGatewayProxyEventV2,
): Promise<Result> {
  const chunks: Buffer[] = [];
  let ended!: () => void;
  const done = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const stream = new RuntimeResponseStream(
    (c) => chunks.push(c),
    () => ended(),
  );
  await handler(event, handlerStream(stream), context(event, 'proxy', 870_000));
  await done;
  const all = Buffer.concat(chunks);
  expect(stream.contentType).toBe(PRELUDE_CONTENT_TYPE);
  const at = all.indexOf(DELIMITER);
  const prelude = JSON.parse(all.subarray(0, at).toString('utf8')) as {
    statusCode: number;
    headers: Record<string, string>;
  };
  return {
    status: prelude.statusCode,
    headers: lower(prelude.headers),
    body: all.subarray(at + DELIMITER.length).toString('utf8'),
  };
}

async function invokeBuffered(
  handler: (e: unknown, c: Context) => Promise<APIGatewayProxyStructuredResultV2>,
  event: APIGatewayProxyEventV2,
): Promise<Result> {
  const r = await handler(event, context(event, 'discovery', 15_000));
  const body =
    r.body === undefined ? '' : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
  return { status: r.statusCode ?? 200, headers: lower((r.headers ?? {}) as Record<string, string>), body };
}

const lower = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
const HOP = new Set([
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'x-amzn-requestid',
]);
const comparable = (r: Result) => ({
  status: r.status,
  headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => !HOP.has(k))),
  body: r.body,
});

/** The same request through the local Function URL emulation, with the event's Host. */
function viaRunner(server: RunningServer, event: APIGatewayProxyEventV2): Promise<Result> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(event.headers as Record<string, string>) };
    for (const k of ['x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-for', 'content-length'])
      delete headers[k];
    const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : undefined;
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: event.requestContext.http.method,
        path: event.rawPath + (event.rawQueryString ? `?${event.rawQueryString}` : ''),
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
            ),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const started = Date.now();
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  const raw = {
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    // The bundles run here without SSM to read a generated key from (signing-key.test.ts runs one
    // through a local SSM): the relay stays off.
    deploy: { stack_name: 'BundleTest', generate_signing_key: false },
  };
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-bundle-'));
  const { app, stack } = buildApp(raw, { outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<
      string,
      { Type: string; Properties: { Environment: { Variables: unknown } }; Metadata: Record<string, string> }
    >;
  };
  const attrs = {
    McpAuthProxyProxyFunctionFunctionUrl: `https://${PROXY_HOST}/`,
    McpAuthProxyDiscoveryFunctionFunctionUrl: `https://${DISCOVERY_HOST}/`,
  };
  const find = (prefix: string): Bundle => {
    const [logicalId, r] = Object.entries(template.Resources).find(
      ([id, x]) => id.startsWith(prefix) && x.Type === 'AWS::Lambda::Function',
    )!;
    return {
      logicalId,
      dir: join(assembly.directory, r.Metadata['aws:asset:path']!),
      env: evaluate(r.Properties.Environment.Variables, attrs) as Record<string, string>,
    };
  };
  bundles = { proxy: find('McpAuthProxyProxyFunction'), discovery: find('McpAuthProxyDiscoveryFunction') };
  process.stderr.write(`[cdk bundles] synth with bundling: ${Date.now() - started} ms\n`);

  // Session binding is on, so the bundled proxy reads its generated secret through the extension
  // at the first authenticated request: a loopback stand-in answers with one value.
  extension = await startProxySecretExtension(bundles.proxy.env);
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(extension.port);
  // Load the bundles as Lambda would: the awslambda global exists, the environment is set.
  installAwsLambdaGlobal();
  // The bundles carry their own logger (stdout, as on Lambda), not the test's console sink: keep
  // their access lines out of a passing run (failures still print ERROR lines).
  process.env.AWS_LAMBDA_LOG_LEVEL = 'ERROR';
  const savedEnv = { ...process.env };
  // The template gives the extension's default port; the stand-in listens elsewhere.
  Object.assign(process.env, bundles.proxy.env, {
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
  });
  const proxyMod = await import(pathToFileURL(join(bundles.proxy.dir, 'index.mjs')).href);
  for (const k of Object.keys(bundles.proxy.env)) delete process.env[k];
  Object.assign(process.env, bundles.discovery.env);
  const discoveryMod = await import(pathToFileURL(join(bundles.discovery.dir, 'index.mjs')).href);
  handlers = { proxy: proxyMod.handler, discovery: discoveryMod.handler };
  // Build the discovery function's cached handler now, under its own environment.
  await handlers.discovery(
    loadEvent('discovery-get-authorization-server-metadata.json'),
    context(loadEvent('discovery-get-authorization-server-metadata.json'), 'discovery', 15_000),
  );
  process.env = savedEnv;

  // The same code from the TypeScript sources, behind the local Function URL emulation.
  const proxySrc = await import('../../functions/proxy/index.ts');
  const discoverySrc = await import('../../functions/discovery/index.ts');
  // The runner answers only at its own host names; the samples are addressed to Function URL hosts.
  const sampleHosts = readdirSync(EVENTS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'sam-env.json')
    .map(
      (f) => (JSON.parse(readFileSync(join(EVENTS_DIR, f), 'utf8')) as APIGatewayProxyEventV2).headers.host,
    )
    .filter((h): h is string => typeof h === 'string');
  runner = {
    proxy: await startFunctionUrlServer({
      publicHosts: sampleHosts,
      fn: {
        name: 'proxy',
        handler: proxySrc.buildHandler(configFromEnv(bundles.proxy.env)),
        timeoutMs: 870_000,
      },
    }),
    discovery: await startFunctionUrlServer({
      publicHosts: sampleHosts,
      fn: {
        name: 'discovery',
        handler: discoverySrc.buildHandler(configFromEnv(bundles.discovery.env)),
        timeoutMs: 15_000,
      },
    }),
  };
}, 60_000);

afterAll(async () => {
  delete process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
  await extension?.close();
  await runner?.proxy.close();
  await runner?.discovery.close();
  await upstream?.close();
  await idp?.close();
});

describe('bundles produced by synth', () => {
  it('are minified ESM with the createRequire banner and an external source map', () => {
    for (const b of [bundles.proxy, bundles.discovery]) {
      expect(readdirSync(b.dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const code = readFileSync(join(b.dir, 'index.mjs'), 'utf8');
      expect(
        code.startsWith(
          "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        ),
      ).toBe(true);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    }
  });

  it('keep the AWS SDK out of the proxy, and the proxy within its size budget', () => {
    const sources = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
    const proxySources = sources(bundles.proxy.dir);
    // The map lists every bundled module, dependencies included (so the check below means something).
    expect(proxySources.some((s) => s.includes('node_modules/jose/'))).toBe(true);
    expect(proxySources.filter((s) => /node_modules\/(@aws-sdk|@smithy|aws-sdk)\//.test(s))).toEqual([]);
    expect(readFileSync(join(bundles.proxy.dir, 'index.mjs'), 'utf8')).not.toMatch(
      /@aws-sdk\/|client-ssm|SSMClient/,
    );
    const proxySize = statSync(join(bundles.proxy.dir, 'index.mjs')).size;
    const discoverySize = statSync(join(bundles.discovery.dir, 'index.mjs')).size;
    process.stderr.write(
      `[cdk bundles] proxy index.mjs ${proxySize} bytes, discovery index.mjs ${discoverySize} bytes\n`,
    );
    expect(proxySize).toBeLessThanOrEqual(PROXY_BUNDLE_MAX_BYTES);
  });

  it('receive the config the template gives them', () => {
    expect(bundles.proxy.env.AUTHORIZATION_SERVER_URL).toBe(`https://${DISCOVERY_HOST}`);
    expect(JSON.parse(bundles.proxy.env.MCP_AUTH_PROXY_CONFIG!).base_url).toBe(upstream.url);
    expect(bundles.discovery.env.AUTHORIZATION_SERVER_URL).toBeUndefined();
  });
});

describe('events/ against the bundles = the same request through the local runner', () => {
  const events = readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json') && f !== 'sam-env.json');

  it('covers both functions', () => {
    expect(events.filter((e) => e.startsWith('proxy-')).length).toBeGreaterThanOrEqual(3);
    expect(events.filter((e) => e.startsWith('discovery-')).length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.startsWith('proxy-') || e.startsWith('discovery-'))).toBe(true);
  });

  it('events/sam-env.json names the functions by their logical ids and matches the sample hosts', () => {
    const samEnv = JSON.parse(readFileSync(join(EVENTS_DIR, 'sam-env.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    // SAM only overrides variables the template defines; the proxy's AUTHORIZATION_SERVER_URL is
    // computed from the discovery URL, which SAM cannot resolve.
    expect(Object.keys(samEnv)).toEqual([bundles.proxy.logicalId]);
    expect(bundles.discovery.logicalId).toBe('McpAuthProxyDiscoveryFunctionF14048BD');
    expect(samEnv[bundles.proxy.logicalId]!.AUTHORIZATION_SERVER_URL).toBe(
      bundles.proxy.env.AUTHORIZATION_SERVER_URL,
    );
  });

  it.each(events)('%s', async (name) => {
    const event = loadEvent(name);
    const isProxy = name.startsWith('proxy-');
    const bundled = isProxy
      ? await invokeStreaming(handlers.proxy, event)
      : await invokeBuffered(handlers.discovery, event);
    const local = await viaRunner(isProxy ? runner.proxy : runner.discovery, event);
    expect(comparable(bundled)).toEqual(comparable(local));
    expect(bundled.status).toBeGreaterThanOrEqual(200);
  });

  it('the documented outcomes of the proxy events', async () => {
    const noToken = await invokeStreaming(handlers.proxy, loadEvent('proxy-post-mcp-no-token.json'));
    expect(noToken.status).toBe(401);
    expect(noToken.headers['www-authenticate']).toContain(
      `resource_metadata="https://${PROXY_HOST}/.well-known/oauth-protected-resource/mcp"`,
    );
    const bad = await invokeStreaming(handlers.proxy, loadEvent('proxy-post-mcp-invalid-token.json'));
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    const prm = await invokeStreaming(
      handlers.proxy,
      loadEvent('proxy-get-protected-resource-metadata.json'),
    );
    expect(prm.status).toBe(200);
    expect(JSON.parse(prm.body)).toMatchObject({
      resource: `https://${PROXY_HOST}/mcp`,
      authorization_servers: [`https://${DISCOVERY_HOST}`],
    });
  });

  it('a valid token reaches the upstream through the bundled proxy exactly as through the runner', async () => {
    const token = await idp.sign({ aud: `https://${PROXY_HOST}/mcp` });
    const base = loadEvent('proxy-post-mcp-no-token.json');
    const event = { ...base, headers: { ...base.headers, authorization: `Bearer ${token}` } };
    const before = upstream.seen.length;
    const bundled = await invokeStreaming(handlers.proxy, event);
    const local = await viaRunner(runner.proxy, event);
    expect(bundled.status).toBe(200);
    expect(bundled.body).toBe('{"ok":true}');
    expect(comparable(bundled)).toEqual(comparable(local));
    expect(upstream.seen.length).toBe(before + 2);
    expect(upstream.seen.at(-1)!.headers.authorization).toBeUndefined();
  });
});
