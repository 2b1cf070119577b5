/**
 * `cognito` (provider `cognito`): an Amazon Cognito user pool.
 */
import { ConfigError } from '../errors.ts';
import { open, table } from '../keys.ts';
import type { ConfigReader } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';

export const COGNITO = table('cognito', {
  user_pool_id: {
    type: 'string',
    required: true,
  },
  domain_url: {
    type: 'url',
    secure: true,
    required: true,
  },
  scopes: { type: 'list', default: [] },
  endpoint: {
    type: 'url',
    secure: true,
    derived: 'the AWS endpoint',
  },
  access_token_minutes: { type: 'int', default: 60, min: 5, max: 1440 },
  refresh_token_days: { type: 'int', default: 7, min: 1, max: 3650 },
  refresh_token_rotation: { type: 'bool', default: true },
});

/** `cognito` provider. */
export interface CognitoConfig {
  readonly userPoolId: string;
  readonly region: string;
  /** Hosted UI domain, e.g. `https://myapp.auth.eu-west-1.amazoncognito.com`. */
  readonly domainUrl: string;
  readonly scopes: readonly string[];
  /** Endpoint override for the Cognito API (local emulators). */
  readonly endpoint?: string;
  /** Validity of the access and ID tokens of created app clients (minutes). */
  readonly accessTokenMinutes: number;
  /** Validity of their refresh tokens (days). */
  readonly refreshTokenDays: number;
  /** Created app clients rotate refresh tokens (a new one on every refresh). */
  readonly refreshTokenRotation: boolean;
}

/** Issuer of the pool's tokens: `https://cognito-idp.<region>.amazonaws.com/<pool>` or the override. */
export function cognitoIssuer(c: Pick<CognitoConfig, 'endpoint' | 'region' | 'userPoolId'>): string {
  const base = c.endpoint ? c.endpoint.replace(/\/+$/, '') : `https://cognito-idp.${c.region}.amazonaws.com`;
  return `${base}/${c.userPoolId}`;
}

/** The pool's JWKS: `<issuer>/.well-known/jwks.json`. */
export const cognitoJwksUri = (issuer: string): string => `${issuer}/.well-known/jwks.json`;

export function parseCognito(r: ConfigReader): { cognito: CognitoConfig } & TokenDefaults {
  const s = open(r, COGNITO);
  const userPoolId = s.r.reqStr('user_pool_id', 'is required for provider "cognito"');
  const m = /^([a-z]{2}-[a-z]+-\d)_[A-Za-z0-9]+$/.exec(userPoolId);
  if (!m)
    throw new ConfigError(s.key('user_pool_id'), `must look like "eu-west-1_AbC123" (got "${userPoolId}")`);
  const endpoint = s.url('endpoint');
  const cognito: CognitoConfig = {
    userPoolId,
    region: m[1]!,
    domainUrl: s.url('domain_url', 'is required for provider "cognito": the hosted UI domain')!,
    scopes: s.list('scopes'),
    endpoint,
    accessTokenMinutes: s.int('access_token_minutes'),
    refreshTokenDays: s.int('refresh_token_days'),
    refreshTokenRotation: s.bool('refresh_token_rotation'),
  };
  const issuer = cognitoIssuer(cognito);
  return { cognito, issuer, jwksUri: cognitoJwksUri(issuer) };
}
