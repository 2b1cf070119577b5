/**
 * A local server implementing the slice of Asgardeo's HTTP contract the proxy uses, and asserting
 * what the proxy sends:
 *  - `POST /t/<org>/oauth2/token` (client_credentials): Basic auth with the configured M2M
 *    credentials (RFC 6749 §2.3.1), form body, exactly the expected scope;
 *  - `POST /t/<org>/api/server/v1/applications`: the bearer token it issued, JSON body of an OIDC
 *    public client with mandatory S256-only PKCE, code/refresh grants, no secret; answers 201 with
 *    a `Location` naming the new application, as Asgardeo does;
 *  - `GET /t/<org>/api/server/v1/applications/<id>/inbound-protocols/oidc`: needs the view scope.
 * Anything else, or any violation, answers an Asgardeo-style error and is recorded in `violations`,
 * so a test fails on the first deviation. `callbackMatches` applies Asgardeo's callback semantics
 * (exact string, or a full-match `regexp=` pattern) to show what a created client would accept.
 *
 * For end-to-end runs it also plays the organization's OAuth server for the applications created
 * through it: `GET /t/<org>/oauth2/authorize` (signs the user in at once, no page; enforces the
 * application's callback URLs and mandatory S256 PKCE), `POST /t/<org>/oauth2/token`
 * (authorization_code with PKCE, refresh_token) issuing RS256 JWT access tokens with issuer
 * `<url>/t/<org>/oauth2/token` and `aud` = the client id (what Asgardeo does) plus
 * `extraAudience` (a test knob, not verified Asgardeo behaviour), and `GET /t/<org>/oauth2/jwks`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type http from 'node:http';
import * as jose from 'jose';
import { serve, type TestServer } from './net.ts';

export interface CreatedApp {
  readonly id: string;
  readonly body: Record<string, unknown>;
  readonly clientId: string;
  readonly callbackURLs: string[];
}

export interface ContractOptions {
  readonly org: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The exact scope set the token request must ask for. */
  readonly expectScope: readonly string[];
  /** Scope granted in the token response (defaults to what was asked). */
  readonly grantScope?: readonly string[];
  readonly tokenTtlSeconds?: number;
  /** Extra `aud` values in user access tokens (test knob). */
  readonly extraAudience?: readonly string[];
  /** Subject of the user who "signs in" at /authorize. */
  readonly user?: string;
}

export interface AsgardeoContract extends TestServer {
  readonly apps: CreatedApp[];
  readonly violations: string[];
  readonly tokenRequests: { scope: string }[];
  readonly requests: { method: string; path: string }[];
  /** Make the next request to `path` (a suffix after /t/<org>) answer `status`. */
  failNext(pathSuffix: string, status: number, times?: number): void;
  /** Forget every issued token (the next management call gets 401). */
  revokeTokens(): void;
  /** Issuer of user access tokens (`<url>/t/<org>/oauth2/token`). */
  readonly issuer: string;
  readonly jwksUri: string;
}

const PUBLIC_GRANTS = new Set(['authorization_code', 'refresh_token']);

export function callbackMatches(callbackURLs: readonly string[], uri: string): boolean {
  return callbackURLs.some((c) => {
    if (c.startsWith('regexp=')) return new RegExp(`^(?:${c.slice('regexp='.length)})$`).test(uri);
    return c === uri;
  });
}

export async function startAsgardeoContract(opts: ContractOptions): Promise<AsgardeoContract> {
  const apps: CreatedApp[] = [];
  const violations: string[] = [];
  const tokenRequests: { scope: string }[] = [];
  const requests: { method: string; path: string }[] = [];
  const tokens = new Map<string, Set<string>>();
  const failures = new Map<string, { status: number; times: number }>();
  const tenant = `/t/${opts.org}`;
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'asg-1', alg: 'RS256', use: 'sig' };
  const codes = new Map<
    string,
    { clientId: string; redirectUri: string; challenge: string; scope: string }
  >();
  const refreshTokens = new Map<string, { clientId: string; scope: string }>();
  const oauthError = (res: http.ServerResponse, status: number, error: string, description: string) =>
    json(res, status, { error, error_description: description });
  const userToken = async (clientId: string, scope: string) => {
    const refresh = `rt-${randomUUID()}`;
    refreshTokens.set(refresh, { clientId, scope });
    const access = await new jose.SignJWT({ scope, client_id: clientId, azp: clientId })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer(`${server.url}${tenant}/oauth2/token`)
      .setSubject(opts.user ?? 'alice@acme.example')
      .setAudience([clientId, ...(opts.extraAudience ?? [])])
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(randomUUID())
      .sign(privateKey);
    return { access_token: access, token_type: 'Bearer', expires_in: 3600, refresh_token: refresh, scope };
  };

  const json = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const violation = (res: http.ServerResponse, status: number, what: string) => {
    violations.push(what);
    json(res, status, {
      code: 'CONTRACT-400',
      message: 'contract violation',
      description: what,
      traceId: randomUUID(),
    });
  };

  const checkApplication = (b: unknown): string | undefined => {
    if (typeof b !== 'object' || b === null) return 'body is not a JSON object';
    const body = b as Record<string, unknown>;
    if (typeof body.name !== 'string' || !/^[A-Za-z0-9 ._-]{1,100}$/.test(body.name))
      return `bad name ${JSON.stringify(body.name)}`;
    const oidc = (body.inboundProtocolConfiguration as { oidc?: Record<string, unknown> } | undefined)?.oidc;
    if (!oidc) return 'no inboundProtocolConfiguration.oidc';
    if (oidc.publicClient !== true) return 'not a public client';
    if ('clientSecret' in oidc) return 'a public client must not carry a clientSecret';
    const pkce = oidc.pkce as { mandatory?: unknown; supportPlainTransformAlgorithm?: unknown } | undefined;
    if (pkce?.mandatory !== true) return 'PKCE not mandatory';
    if (pkce?.supportPlainTransformAlgorithm !== false) return 'PKCE plain not refused';
    const grants = oidc.grantTypes;
    if (
      !Array.isArray(grants) ||
      !grants.includes('authorization_code') ||
      !grants.every((g) => PUBLIC_GRANTS.has(g))
    ) {
      return `bad grantTypes ${JSON.stringify(grants)}`;
    }
    const cb = oidc.callbackURLs;
    if (!Array.isArray(cb) || cb.length !== 1 || typeof cb[0] !== 'string')
      return 'callbackURLs must hold one string';
    if (
      'clientId' in oidc &&
      (typeof oidc.clientId !== 'string' || !/^[A-Za-z0-9_]{15,30}$/.test(oidc.clientId))
    ) {
      return `clientId ${JSON.stringify(oidc.clientId)} does not match [A-Za-z0-9_]{15,30}`;
    }
    return undefined;
  };

  const server: TestServer = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      requests.push({ method: req.method ?? '', path });
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!path.startsWith(`${tenant}/`)) return violation(res, 404, `request outside the tenant: ${path}`);
      const suffix = path.slice(tenant.length);
      const f =
        failures.get(suffix) ??
        (suffix.startsWith('/api/server/v1/applications/')
          ? failures.get('/api/server/v1/applications/*')
          : undefined);
      if (f && f.times > 0) {
        f.times--;
        return json(res, f.status, {
          code: `APP-${f.status}`,
          message: 'injected failure',
          description: 'injected',
          traceId: 't',
        });
      }

      // --- The organization's OAuth server (end-to-end runs) -----------------------------------
      if (suffix === '/oauth2/jwks' && req.method === 'GET') return json(res, 200, { keys: [jwk] });
      if (suffix === '/oauth2/authorize' && req.method === 'GET') {
        const q = url.searchParams;
        const app = apps.find((a) => a.clientId === q.get('client_id'));
        if (!app) return oauthError(res, 400, 'invalid_client', 'unknown client_id');
        const redirect = q.get('redirect_uri') ?? '';
        if (!callbackMatches(app.callbackURLs, redirect))
          return oauthError(res, 400, 'invalid_request', 'redirect_uri mismatch');
        const back = new URL(redirect);
        if (q.get('state')) back.searchParams.set('state', q.get('state')!);
        if (
          q.get('response_type') !== 'code' ||
          !q.get('code_challenge') ||
          q.get('code_challenge_method') !== 'S256'
        ) {
          back.searchParams.set('error', 'invalid_request');
          back.searchParams.set('error_description', 'PKCE S256 is mandatory');
        } else {
          const code = `code-${randomUUID()}`;
          codes.set(code, {
            clientId: app.clientId,
            redirectUri: redirect,
            challenge: q.get('code_challenge')!,
            scope: q.get('scope') ?? 'openid',
          });
          back.searchParams.set('code', code);
        }
        res.writeHead(302, { location: back.toString() });
        return res.end();
      }
      if (suffix === '/oauth2/token' && req.method === 'POST' && !req.headers.authorization) {
        const form = new URLSearchParams(raw);
        const grant = form.get('grant_type');
        if (grant === 'authorization_code') {
          const c = codes.get(form.get('code') ?? '');
          codes.delete(form.get('code') ?? '');
          if (!c || c.clientId !== form.get('client_id') || c.redirectUri !== form.get('redirect_uri')) {
            return oauthError(res, 400, 'invalid_grant', 'invalid authorization code');
          }
          const verifier = form.get('code_verifier') ?? '';
          if (createHash('sha256').update(verifier).digest('base64url') !== c.challenge) {
            return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
          }
          return json(res, 200, await userToken(c.clientId, c.scope), { 'cache-control': 'no-store' });
        }
        if (grant === 'refresh_token') {
          const r = refreshTokens.get(form.get('refresh_token') ?? '');
          if (!r || r.clientId !== form.get('client_id'))
            return oauthError(res, 400, 'invalid_grant', 'invalid refresh token');
          refreshTokens.delete(form.get('refresh_token')!);
          return json(res, 200, await userToken(r.clientId, r.scope), { 'cache-control': 'no-store' });
        }
        return oauthError(res, 400, 'unsupported_grant_type', `grant_type ${grant}`);
      }

      // --- M2M token --------------------------------------------------------------------------
      if (suffix === '/oauth2/token' && req.method === 'POST') {
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded')
          return violation(res, 400, 'token: not form-encoded');
        const expected = `Basic ${Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic' });
          return res.end(
            JSON.stringify({ error: 'invalid_client', error_description: 'Client credentials are invalid.' }),
          );
        }
        const form = new URLSearchParams(raw);
        if (form.get('grant_type') !== 'client_credentials')
          return violation(res, 400, `token: grant_type ${form.get('grant_type')}`);
        const asked = (form.get('scope') ?? '').split(' ').filter(Boolean).sort();
        tokenRequests.push({ scope: form.get('scope') ?? '' });
        if (JSON.stringify(asked) !== JSON.stringify([...opts.expectScope].sort())) {
          return violation(
            res,
            400,
            `token: scope "${form.get('scope')}" is not exactly "${opts.expectScope.join(' ')}"`,
          );
        }
        if ([...form.keys()].some((k) => !['grant_type', 'scope'].includes(k)))
          return violation(res, 400, 'token: unexpected form fields');
        const token = `m2m-${randomUUID()}`;
        const granted = opts.grantScope ?? opts.expectScope;
        tokens.set(token, new Set(granted));
        return json(res, 200, {
          access_token: token,
          token_type: 'Bearer',
          expires_in: opts.tokenTtlSeconds ?? 3600,
          scope: granted.join(' '),
        });
      }

      // --- Application Management API ---------------------------------------------------------
      const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      const granted = auth ? tokens.get(auth[1]!) : undefined;
      if (suffix.startsWith('/api/server/v1/applications')) {
        if (!granted)
          return json(res, 401, {
            code: 'AUT-10001',
            message: 'Unauthorized',
            description: 'invalid token',
            traceId: 't',
          });
      }
      if (suffix === '/api/server/v1/applications' && req.method === 'POST') {
        if (!granted!.has('internal_application_mgt_create'))
          return json(res, 403, { code: 'AUT-10003', message: 'Forbidden' });
        if (req.headers['content-type'] !== 'application/json')
          return violation(res, 400, 'create: not JSON');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(raw);
        } catch {
          return violation(res, 400, 'create: bad JSON');
        }
        const bad = checkApplication(body);
        if (bad) return violation(res, 400, `create: ${bad}`);
        const oidc = (body.inboundProtocolConfiguration as { oidc: Record<string, unknown> }).oidc;
        const clientId =
          typeof oidc.clientId === 'string'
            ? oidc.clientId
            : `gen${randomUUID().replace(/-/g, '').slice(0, 24)}`;
        if (apps.some((a) => a.clientId === clientId || a.body.name === body.name)) {
          return json(res, 409, { code: 'APP-60007', message: 'Application already exists', traceId: 't' });
        }
        const id = randomUUID();
        apps.push({ id, body, clientId, callbackURLs: oidc.callbackURLs as string[] });
        res.writeHead(201, { location: `${server.url}${tenant}/api/server/v1/applications/${id}` });
        return res.end();
      }
      const m = /^\/api\/server\/v1\/applications\/([^/]+)\/inbound-protocols\/oidc$/.exec(suffix);
      if (m && req.method === 'GET') {
        if (!granted!.has('internal_application_mgt_view'))
          return json(res, 403, { code: 'AUT-10003', message: 'Forbidden' });
        const app = apps.find((a) => a.id === m[1]);
        if (!app) return json(res, 404, { code: 'APP-60006', message: 'Application not found' });
        return json(res, 200, { clientId: app.clientId, callbackURLs: app.callbackURLs, publicClient: true });
      }
      return violation(res, 404, `unexpected ${req.method} ${path}`);
    });
  });

  return {
    ...server,
    apps,
    violations,
    tokenRequests,
    requests,
    failNext(pathSuffix, status, times = 1) {
      failures.set(pathSuffix, { status, times });
    },
    revokeTokens() {
      tokens.clear();
    },
    issuer: `${server.url}${tenant}/oauth2/token`,
    jwksUri: `${server.url}${tenant}/oauth2/jwks`,
  };
}
