/**
 * A local server speaking the slice of Microsoft Entra ID's v2 endpoints that one-upstream-client
 * mode uses, strict where Entra is strict (from Microsoft's documentation, not a live tenant):
 *  - `GET /<tenant>/v2.0/.well-known/openid-configuration`: issuer `<url>/<tenant>/v2.0`, no
 *    registration endpoint (Entra has no RFC 7591);
 *  - `GET /<tenant>/oauth2/v2.0/authorize`: the one app registration (`appId`) and its exact
 *    redirect URI; `resource` refused with AADSTS9010010 (v2 endpoints take scopes only); every
 *    scope an OIDC scope or `api://<appId>/<exposed scope>` / `api://<appId>/.default`, else
 *    AADSTS70011; S256 PKCE; signs the user in at once (no page) and redirects with a code;
 *  - `POST /<tenant>/oauth2/v2.0/token`: client_secret_post or client_secret_basic for the app;
 *    `resource` refused (AADSTS9010010); code + PKCE + exact redirect URI; `scope` required with a
 *    refresh token; v2 access tokens: RS256 JWT, `typ` JWT, `iss` the v2 issuer, `aud` = appId,
 *    `scp` = the granted scope names, `ver` 2.0;
 *  - `GET /<tenant>/discovery/v2.0/keys`.
 * Every request is recorded; anything the contract refuses is recorded in `violations` too.
 */
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import * as jose from 'jose';
import { serve, type TestServer } from './net.ts';

export interface EntraContractOptions {
  readonly tenant: string;
  readonly appId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** Scopes the app exposes ("Expose an API"). */
  readonly exposedScopes: readonly string[];
}

export interface EntraRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
}

export interface EntraContract extends TestServer {
  readonly issuer: string;
  readonly requests: EntraRequest[];
  readonly violations: string[];
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const AADSTS9010010 =
  "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes.";

/** The API scope names a scope string asks for, or the AADSTS error Entra would answer (pure). */
export function entraScopes(scope: string | undefined, o: EntraContractOptions): string[] | string {
  const names: string[] = [];
  for (const s of (scope ?? '').split(' ').filter(Boolean)) {
    if (OIDC_SCOPES.has(s)) continue;
    const m = /^api:\/\/([^/]+)\/(.+)$/.exec(s);
    if (!m || m[1] !== o.appId)
      return `AADSTS70011: The provided value for the input parameter 'scope' is not valid (${s}).`;
    if (m[2] === '.default') names.push(...o.exposedScopes);
    else if (o.exposedScopes.includes(m[2]!)) names.push(m[2]!);
    else return `AADSTS65005: The application asked for scope '${m[2]}' that doesn't exist.`;
  }
  return names.length ? names : 'AADSTS70011: no scope of the API was requested.';
}

async function readParams(req: http.IncomingMessage, url: URL): Promise<Record<string, string>> {
  if (req.method === 'GET') return Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

// One closure (hence its length): the keys, codes and refresh tokens the endpoints share.
export async function startEntraContract(o: EntraContractOptions): Promise<EntraContract> {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'entra-1', use: 'sig', alg: 'RS256' };
  const requests: EntraRequest[] = [];
  const violations: string[] = [];
  const codes = new Map<string, { challenge: string; scopes: string[] }>();
  const refreshTokens = new Map<string, string[]>();
  let issuer = '';
  const t = `/${o.tenant}`;

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: http.ServerResponse, status: number, error: string, description: string) => {
    violations.push(description);
    json(res, status, { error, error_description: description });
  };

  const accessToken = (scopes: string[]) =>
    new jose.SignJWT({ scp: scopes.join(' '), azp: o.appId, tid: o.tenant, ver: '2.0', oid: 'user-oid-1' })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(o.appId)
      .setSubject('entra-user-1')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);

  const authorize = (res: http.ServerResponse, p: Record<string, string>) => {
    if (p.client_id !== o.appId || p.redirect_uri !== o.redirectUri) {
      violations.push(`authorize: client ${p.client_id} / redirect_uri ${p.redirect_uri}`);
      res.writeHead(400, { 'content-type': 'text/html' }).end('AADSTS50011: redirect URI mismatch');
      return;
    }
    const back = new URL(o.redirectUri);
    if (p.state) back.searchParams.set('state', p.state);
    const scopes = entraScopes(p.scope, o);
    const error =
      p.resource !== undefined
        ? AADSTS9010010
        : typeof scopes === 'string'
          ? scopes
          : p.code_challenge_method !== 'S256' || !p.code_challenge
            ? 'AADSTS9002325: Proof Key for Code Exchange is required.'
            : undefined;
    if (error) {
      violations.push(`authorize: ${error}`);
      back.searchParams.set('error', p.resource !== undefined ? 'invalid_target' : 'invalid_request');
      back.searchParams.set('error_description', error);
    } else {
      const code = randomBytes(24).toString('base64url');
      codes.set(code, { challenge: p.code_challenge!, scopes: scopes as string[] });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.toString() }).end();
  };

  const clientAuthenticated = (req: http.IncomingMessage, p: Record<string, string>) => {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
      return p.client_secret === undefined && id === o.appId && secret === o.clientSecret;
    }
    return p.client_id === o.appId && p.client_secret === o.clientSecret;
  };

  const token = async (req: http.IncomingMessage, res: http.ServerResponse, p: Record<string, string>) => {
    if (p.resource !== undefined) return refuse(res, 400, 'invalid_request', AADSTS9010010);
    if (!clientAuthenticated(req, p))
      return refuse(res, 401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    let scopes: string[];
    if (p.grant_type === 'authorization_code') {
      const c = codes.get(p.code ?? '');
      codes.delete(p.code ?? '');
      const verifier = createHash('sha256')
        .update(p.code_verifier ?? '')
        .digest('base64url');
      if (!c || p.redirect_uri !== o.redirectUri || verifier !== c.challenge)
        return refuse(res, 400, 'invalid_grant', 'AADSTS70008: The provided authorization code is invalid.');
      scopes = c.scopes;
    } else if (p.grant_type === 'refresh_token') {
      const had = refreshTokens.get(p.refresh_token ?? '');
      const asked = entraScopes(p.scope, o);
      if (!had) return refuse(res, 400, 'invalid_grant', 'AADSTS9002313: Invalid refresh token.');
      if (typeof asked === 'string') return refuse(res, 400, 'invalid_scope', asked);
      scopes = asked;
    } else {
      return refuse(res, 400, 'unsupported_grant_type', `AADSTS70003: grant ${p.grant_type}`);
    }
    const refresh = randomBytes(32).toString('base64url');
    refreshTokens.set(refresh, scopes);
    json(res, 200, {
      token_type: 'Bearer',
      scope: scopes.map((s) => `api://${o.appId}/${s}`).join(' '),
      expires_in: 3600,
      access_token: await accessToken(scopes),
      refresh_token: refresh,
    });
  };

  const server = await serve(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer || 'http://localhost');
    const params = await readParams(req, url);
    requests.push({ method: req.method ?? 'GET', path: url.pathname, params });
    if (url.pathname === `${t}/v2.0/.well-known/openid-configuration`) {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${server.url}${t}/oauth2/v2.0/authorize`,
        token_endpoint: `${server.url}${t}/oauth2/v2.0/token`,
        jwks_uri: `${server.url}${t}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      });
    }
    if (url.pathname === `${t}/discovery/v2.0/keys`) return json(res, 200, { keys: [jwk] });
    if (url.pathname === `${t}/oauth2/v2.0/authorize` && req.method === 'GET') return authorize(res, params);
    if (url.pathname === `${t}/oauth2/v2.0/token` && req.method === 'POST') return token(req, res, params);
    violations.push(`unknown endpoint ${req.method} ${url.pathname}`);
    res.writeHead(404).end();
  });
  issuer = `${server.url}${t}/v2.0`;
  return Object.assign(server, { issuer, requests, violations });
}
