/**
 * Hostile input for the Asgardeo provider: redirect URIs built to widen Asgardeo's `regexp=`
 * callback pattern, Asgardeo's own regex syntax smuggled in, fragments; and TLS verification
 * against a server with an untrusted certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callbackUrls,
  createAsgardeoProvider,
  escapeRegex,
  SCOPE_CREATE,
} from '../../functions/discovery/providers/asgardeo.ts';
import type { ClientRegistration } from '../../functions/discovery/providers/types.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { OAuthError } from '../../functions/shared/errors.ts';
import {
  type AsgardeoContract,
  callbackMatches,
  startAsgardeoContract,
} from '../helpers/asgardeo-contract.ts';

const ORG = 'acme';
let asg: AsgardeoContract;
beforeAll(async () => {
  asg = await startAsgardeoContract({
    org: ORG,
    clientId: 'm2mClientId0001',
    clientSecret: 'sec',
    expectScope: [SCOPE_CREATE],
  });
});
afterAll(() => asg.close());

const provider = (apiBaseUrl: string) =>
  createAsgardeoProvider(
    parseConfig({
      base_url: 'http://127.0.0.1:1',
      asgardeo: {
        org_name: ORG,
        client_id: 'm2mClientId0001',
        client_secret: 'sec',
        api_base_url: apiBaseUrl,
      },
    }),
    { secrets: createSecretResolver() },
  );

const registration = (redirect_uris: string[]): ClientRegistration => ({
  redirect_uris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
});

describe('redirect URIs become an exact, escaped, anchored callback pattern', () => {
  const registered = [
    'http://127.0.0.1:3000/callback',
    'https://app.example.com/a.b/cb?x=1&y=(2)',
    'https://app.example.com/cb|https://evil.example.com/.*',
    'https://app.example.com/[a-z]+{1,3}^$\\',
  ];

  it('matches exactly the registered URIs and nothing else', async () => {
    const reg = await provider(asg.url).register(registration(registered));
    const app = asg.apps.find((a) => a.clientId === reg.client_id)!;
    expect(app.callbackURLs).toHaveLength(1);
    expect(app.callbackURLs[0]).toMatch(/^regexp=\(\^.*\$\)$/);
    for (const u of registered) expect(callbackMatches(app.callbackURLs, u), u).toBe(true);
    const hostile = [
      'https://evil.example.com/',
      'https://evil.example.com/anything',
      'https://app.example.com/cb',
      'http://127.0.0.1:3000/callbackX',
      'http://127.0.0.1:3000/callback/../../evil',
      'xhttp://127.0.0.1:3000/callback',
      'https://app.example.com/aXb/cb?x=1&y=(2)', // `.` is literal
      'https://app.example.com/a.b/cb?x=1&y=2', // `(` `)` are literal
      'https://app.example.com/a.b/cb?x=1&y=(2)&z=3',
      'https://app.example.com/q/cb|https://evil.example.com/.*',
      'https://app.example.com/abc', // `[a-z]+` is literal
      'https://app.example.com/[a-z]+{1,3}^$',
    ];
    for (const u of hostile) expect(callbackMatches(app.callbackURLs, u), u).toBe(false);
  });

  it('sends a single URI verbatim (Asgardeo matches it exactly)', () => {
    expect(callbackUrls(['https://app.example.com/cb?x=.*'])).toEqual(['https://app.example.com/cb?x=.*']);
  });

  it('escapes every regex metacharacter', () => {
    const meta = '\\^$.|?*+()[]{}';
    const re = new RegExp(`^${escapeRegex(meta)}$`);
    expect(re.test(meta)).toBe(true);
    expect(escapeRegex('abc/-:=&')).toBe('abc/-:=&');
  });

  it("refuses Asgardeo's own regexp= syntax, fragments and non-URIs before any API call", async () => {
    const before = { apps: asg.apps.length, tokens: asg.tokenRequests.length };
    for (const uris of [
      ['regexp=.*'],
      ['REGEXP=(https://evil.example.com/.*)'],
      ['https://app.example.com/cb#frag'],
      ['not a uri'],
      ['https://app.example.com/cb', 'https://app.example.com/c b'],
      [],
    ]) {
      const err = await provider(asg.url)
        .register(registration(uris))
        .catch((e) => e);
      expect(err, JSON.stringify(uris)).toBeInstanceOf(OAuthError);
      expect(err.code).toBe('invalid_redirect_uri');
    }
    expect({ apps: asg.apps.length, tokens: asg.tokenRequests.length }).toEqual(before);
  });

  it('sanitizes the application name', async () => {
    const p = provider(asg.url);
    await p.register({
      ...registration(['https://a.example.com/cb']),
      client_name: '<img src=x onerror=alert(1)>"; DROP',
    });
    expect(asg.apps.at(-1)!.body.name).toMatch(/^mcp-[A-Za-z0-9 ._-]+$/);
  });
});

describe('TLS verification', () => {
  let dir: string;
  let server: https.Server;
  let hits = 0;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'asg-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    server = https.createServer(
      { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
      (_req, res) => {
        hits++;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"access_token":"x","expires_in":3600}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an IdP whose certificate is not trusted (no request reaches it)', async () => {
    const port = (server.address() as AddressInfo).port;
    const err = await provider(`https://localhost:${port}`)
      .register(registration(['https://a.example.com/cb']))
      .catch((e) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err.status).toBe(503);
    expect(err.reason).toMatch(/self[- ]signed|certificate/i);
    expect(hits).toBe(0);
  });
});
