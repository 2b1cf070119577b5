/**
 * A secret injected into the IdP calls (`default.path./token.addBodyParams`,
 * `/register.addBodyParams`) comes from SSM end to end: synth writes only the parameter's name
 * into the functions' environment and grants the discovery function (only) read access to exactly
 * that parameter; the discovery handler built from that environment reads it at cold start
 * through the real SSM client (local SSM endpoint) and the IdP receives the value. While the
 * parameter cannot be read, requests fail closed and nothing reaches the IdP.
 */
import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHandler } from '../../functions/discovery/index.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
import { configFromEnv } from '../../functions/shared/config/index.ts';
import { createLogger } from '../../functions/shared/log.ts';
import { serve, type TestServer } from '../helpers/net.ts';
import { type SsmServer, ssmClientConfig, startSsmServer } from '../helpers/ssm-server.ts';
import { evaluate, resource, template } from './helpers.ts';

const TOKEN_PARAM = '/mcp-auth/idp/api-key';
const REGISTER_PARAM = '/mcp-auth/idp/tenant-key';
const API_KEY = 'sk-live-from-ssm-0123456789';
const TENANT_KEY = 'tenant-key-from-ssm';
const ATTRS = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  McpAuthProxyProxyFunctionFunctionUrl: 'https://p.lambda-url.eu-west-1.on.aws/',
  McpAuthProxyDiscoveryFunctionFunctionUrl: 'https://d.lambda-url.eu-west-1.on.aws/',
};

const registerEvent = JSON.parse(
  readFileSync(new URL('../../events/discovery-post-register.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEventV2;
const tokenEvent: APIGatewayProxyEventV2 = {
  ...registerEvent,
  rawPath: '/token',
  headers: { ...registerEvent.headers, 'content-type': 'application/x-www-form-urlencoded' },
  requestContext: {
    ...registerEvent.requestContext,
    http: { ...registerEvent.requestContext.http, path: '/token' },
  },
  body: new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: 'rt-1',
    client_id: 'idp-client-1',
  }).toString(),
};

interface Seen {
  path: string;
  body: string;
}
let idp: TestServer;
let ssm: SsmServer;
const seen: Seen[] = [];

beforeAll(async () => {
  ssm = await startSsmServer();
  idp = await serve(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push({ path, body: Buffer.concat(chunks).toString() });
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') {
      return reply(200, {
        issuer: idp.url,
        authorization_endpoint: `${idp.url}/authorize`,
        token_endpoint: `${idp.url}/token`,
        registration_endpoint: `${idp.url}/register`,
        jwks_uri: `${idp.url}/jwks`,
      });
    }
    if (path === '/register') return reply(201, { client_id: 'idp-client-1' });
    if (path === '/token') return reply(200, { access_token: 'at', token_type: 'Bearer', expires_in: 60 });
    reply(404, { error: 'not_found' });
  });
});
afterAll(async () => {
  await Promise.all([ssm.close(), idp.close()]);
});

/** The deployed stack of a config whose IdP calls carry SSM-backed params. */
function synth() {
  return template({
    provider: 'oidc',
    base_url: 'https://mcp.internal.example.com',
    default: {
      base_url: idp.url,
      path: {
        '/token': {
          addBodyParams: [
            { name: 'api_key', value_ssm_parameter: TOKEN_PARAM },
            { name: 'audience', value: 'mcp' },
          ],
        },
        '/register': { addBodyParams: [{ name: 'tenant_key', value_ssm_parameter: REGISTER_PARAM }] },
      },
    },
    // This file drives the direct binding (the IdP registers each client): no generated signing key.
    deploy: { generate_signing_key: false },
  });
}

/** The discovery handler as Lambda builds it from the synthesized environment. */
function coldStart(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('discovery', 'debug', (l) => lines.push(JSON.parse(l)));
  const secrets = createSecretResolver({
    ssm: ssmClientConfig(ssm),
    allowInline: false,
    log,
  });
  return { handle: buildHandler(configFromEnv(env), { secrets, log }), lines };
}

describe('a parameter value from SSM', () => {
  let t: Template;
  beforeAll(() => {
    t = synth();
  });
  const env = (which: 'Proxy' | 'Discovery') =>
    evaluate(
      (
        resource(t, 'AWS::Lambda::Function', `McpAuthProxy${which}Function`).props.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables,
      ATTRS,
    ) as Record<string, string>;
  const ssmResources = (which: 'Proxy' | 'Discovery') =>
    (
      resource(t, 'AWS::IAM::Policy', `McpAuthProxy${which}FunctionRoleDefaultPolicy`).props
        .PolicyDocument as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      }
    ).Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith('ssm:'))).map((s) =>
      evaluate(s.Resource, ATTRS),
    );

  it('is deployed as its parameter name, readable by the discovery function only', () => {
    const config = JSON.parse(env('Discovery').MCP_AUTH_PROXY_CONFIG!);
    expect(config.default.path['/token'].addBodyParams[0]).toEqual({
      name: 'api_key',
      value_ssm_parameter: TOKEN_PARAM,
    });
    expect([...ssmResources('Discovery')].flat().sort()).toEqual([
      `arn:aws:ssm:eu-west-1:123456789012:parameter${TOKEN_PARAM}`,
      `arn:aws:ssm:eu-west-1:123456789012:parameter${REGISTER_PARAM}`,
    ]);
    // The proxy reads only its own secret (session binding, lib/proxy-secret.ts), none of the facade's.
    expect(ssmResources('Proxy')).toEqual([
      expect.stringMatching(
        /^arn:aws:ssm:eu-west-1:123456789012:parameter\/aws\/reference\/secretsmanager\/.+\/proxy-secret$/,
      ),
    ]);
  });

  it('fails closed while the parameter is missing: 503, the parameter logged, nothing sent to the IdP', async () => {
    ssm.delete(TOKEN_PARAM);
    ssm.set(REGISTER_PARAM, { value: TENANT_KEY, type: 'SecureString' });
    seen.length = 0;
    const { handle, lines } = coldStart(env('Discovery'));
    const r = await handle(tokenEvent);
    expect(r.statusCode).toBe(503);
    expect(r.body).not.toContain(TOKEN_PARAM);
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'secret unavailable', parameter: TOKEN_PARAM }),
    );
    expect(seen.filter((s) => s.path === '/token' || s.path === '/register')).toEqual([]);
  });

  it('a client_credentials request is never lent the deployment’s secret parameters (review finding)', async () => {
    ssm.set(TOKEN_PARAM, { value: API_KEY, type: 'SecureString' });
    ssm.set(REGISTER_PARAM, { value: TENANT_KEY, type: 'SecureString' });
    seen.length = 0;
    const { handle } = coldStart(env('Discovery'));
    const machine = {
      ...tokenEvent,
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'idp-client-1',
        client_secret: 'junk',
      }).toString(),
    };
    await handle(machine);
    const sent = new URLSearchParams(seen.find((s) => s.path === '/token')!.body);
    expect(sent.get('api_key')).toBeNull(); // the SSM-backed value stays for the grants that sign users in
    expect(sent.get('client_secret')).toBe('junk'); // the client's own, for the IdP to judge
    expect(sent.get('audience')).toBe('mcp'); // plain parameters still apply
  });

  it('reaches the IdP: the token request and the registration carry the values read from SSM', async () => {
    ssm.set(TOKEN_PARAM, { value: API_KEY, type: 'SecureString' });
    ssm.set(REGISTER_PARAM, { value: TENANT_KEY, type: 'SecureString' });
    seen.length = 0;
    ssm.calls.length = 0;
    const { handle, lines } = coldStart(env('Discovery'));
    const token = await handle(tokenEvent);
    expect(token.statusCode).toBe(200);
    const sent = new URLSearchParams(seen.find((s) => s.path === '/token')!.body);
    expect(sent.get('api_key')).toBe(API_KEY);
    expect(sent.get('audience')).toBe('mcp');
    expect(sent.get('refresh_token')).toBe('rt-1');

    const reg = await handle(registerEvent);
    expect(reg.statusCode).toBe(201);
    expect(JSON.parse(seen.find((s) => s.path === '/register')!.body)).toMatchObject({
      tenant_key: TENANT_KEY,
    });
    // Not echoed to the (anonymous) registrant, never logged.
    expect(reg.body).not.toContain(TENANT_KEY);
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
    expect(JSON.stringify(lines)).not.toContain(TENANT_KEY);
    // Read once at cold start, both names in one decrypted batch.
    expect(ssm.calls).toHaveLength(1);
    expect(ssm.calls[0]).toEqual({
      names: expect.arrayContaining([TOKEN_PARAM, REGISTER_PARAM]),
      withDecryption: true,
    });
  });
});
