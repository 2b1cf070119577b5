/**
 * A JWKS endpoint on loopback that can be taken down: it counts every request that reaches it
 * (failed ones too) and, while `down`, answers 503 or resets the connection, like an IdP in an
 * outage. The keys are real public JWKs, so the tokens the proxy accepts are really verified.
 */
import * as jose from 'jose';
import { serve, type TestServer } from './net.ts';

export type JwksOutage = 'up' | 'http-503' | 'reset';

export interface FaultyJwks extends TestServer {
  readonly jwksUri: string;
  /** Requests that reached `/jwks`, answered or not. */
  requests(): number;
  /** What `/jwks` does from now on. */
  set(mode: JwksOutage): void;
  /** A new signing key: published now (`publish`) or later (rotation), its private half returned. */
  newKey(kid: string, publish?: boolean): Promise<jose.CryptoKey>;
  /** Publish a key made by `newKey(kid, false)`. */
  publish(kid: string): void;
}

export async function startFaultyJwks(): Promise<FaultyJwks> {
  const published: jose.JWK[] = [];
  const held = new Map<string, jose.JWK>();
  let mode: JwksOutage = 'up';
  let count = 0;
  const server = await serve((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    count++;
    if (mode === 'reset') return void req.socket.resetAndDestroy();
    if (mode === 'http-503') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
  return {
    ...server,
    jwksUri: `${server.url}/jwks`,
    requests: () => count,
    set: (m) => {
      mode = m;
    },
    async newKey(kid, publish = true) {
      const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
      const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      if (publish) published.push(jwk);
      else held.set(kid, jwk);
      return privateKey;
    },
    publish(kid) {
      const jwk = held.get(kid);
      if (!jwk) throw new Error(`no held key ${kid}`);
      published.push(jwk);
    },
  };
}
