/**
 * A real token issuer for tests: fresh keys, a JWKS endpoint served over HTTP on loopback
 * (with a fetch counter), and helpers to mint good and hostile tokens.
 */
import * as jose from 'jose';
import { serve, type TestServer } from './net.ts';

export interface TestIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly server: TestServer;
  jwksFetches(): number;
  /** Sign with the published key (override claims/header as needed). */
  sign(
    claims?: jose.JWTPayload,
    header?: Partial<jose.JWTHeaderParameters>,
    key?: jose.CryptoKey,
  ): Promise<string>;
  /** A second key pair that is NOT in the JWKS. */
  readonly strangerKey: jose.CryptoKey;
  readonly publicJwk: jose.JWK;
  /** Publish an extra key (key rotation). */
  rotate(): Promise<{ kid: string; key: jose.CryptoKey }>;
  close(): Promise<void>;
}

export async function startTestIssuer(
  opts: {
    audience?: string;
    /** The issuer's spelling: its URL with a trailing slash, as Auth0's. @default false */
    trailingSlash?: boolean;
  } = {},
): Promise<TestIssuer> {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const stranger = await jose.generateKeyPair('RS256');
  const kid = 'k1';
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const keys: jose.JWK[] = [publicJwk];
  let fetches = 0;
  const server = await serve((req, res) => {
    if (req.url === '/jwks') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
      return;
    }
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, jwks_uri: `${server.url}/jwks` }));
      return;
    }
    res.writeHead(404).end();
  });
  const issuer = opts.trailingSlash ? `${server.url}/` : server.url;
  const signers = new Map<string, jose.CryptoKey>([[kid, privateKey]]);
  return {
    issuer,
    jwksUri: `${server.url}/jwks`,
    server,
    jwksFetches: () => fetches,
    strangerKey: stranger.privateKey,
    publicJwk,
    async sign(claims = {}, header = {}, key) {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: issuer,
        sub: 'alice',
        aud: opts.audience,
        iat: now,
        exp: now + 300,
        scope: 'mcp:tools',
        client_id: 'client-1',
        ...claims,
      };
      for (const k of Object.keys(payload) as (keyof typeof payload)[])
        if (payload[k] === undefined) delete payload[k];
      const h = { alg: 'RS256', kid, typ: 'at+jwt', ...header };
      return new jose.SignJWT(payload)
        .setProtectedHeader(h as jose.JWTHeaderParameters)
        .sign(key ?? signers.get(h.kid as string) ?? privateKey);
    },
    async rotate() {
      const pair = await jose.generateKeyPair('RS256', { extractable: true });
      const newKid = `k${signers.size + 1}`;
      keys.push({ ...(await jose.exportJWK(pair.publicKey)), kid: newKid, alg: 'RS256', use: 'sig' });
      signers.set(newKid, pair.privateKey);
      return { kid: newKid, key: pair.privateKey };
    },
    close: () => server.close(),
  };
}
