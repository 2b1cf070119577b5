/**
 * JWT verification with a warm JWKS: operations per second of our verifier (token.ts, jose)
 * and of aws-jwt-verify (what the Cognito provider uses) on the same RS256 token and key.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { createJwtVerifier } from '../functions/proxy/token.ts';

export interface JwtBenchInput {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string;
  readonly token: string;
}

async function opsPerSecond(n: number, verify: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await verify(); // JIT and caches
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await verify();
  return n / ((performance.now() - t0) / 1000);
}

export async function jwtBench(input: JwtBenchInput, n: number) {
  const ours = createJwtVerifier({
    issuer: input.issuer,
    jwksUri: input.jwksUri,
    algorithms: ['RS256'],
    clockSkewSeconds: 60,
  });
  await ours.warm();
  const aws = JwtVerifier.create({ issuer: input.issuer, audience: input.audience, jwksUri: input.jwksUri });
  // Its own fetcher speaks https only: hand it the same key set, as a warm cache.
  aws.cacheJwks((await (await fetch(input.jwksUri)).json()) as Parameters<typeof aws.cacheJwks>[0]);
  const audiences = [input.audience];
  return {
    oursOpsPerSec: await opsPerSecond(n, () => ours.verify(input.token, audiences)),
    awsJwtVerifyOpsPerSec: await opsPerSecond(n, () => aws.verify(input.token)),
  };
}
