/**
 * `asgardeo` / `demo` (the original's blocks; provider `asgardeo`).
 */
import { ConfigError } from '../errors.ts';
import { Section, table } from '../keys.ts';
import type { ConfigReader, SecretRef } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';

export const ASGARDEO = table(
  'asgardeo',
  {
    org_name: { type: 'string', required: true },
    client_id: {
      type: 'string',
      required: true,
    },
    client_secret: { type: 'secret', required: true },
    api_base_url: {
      type: 'url',
      secure: true,
      default: 'https://api.asgardeo.io',
    },
    client_id_mode: {
      type: 'string',
      default: 'generated',
      values: ['generated', 'read_back'],
    },
  },
  ['demo'],
);

/** `asgardeo` provider (original's `asgardeo` / `demo` blocks). */
export interface AsgardeoConfig {
  readonly orgName: string;
  readonly clientId: string;
  readonly clientSecret: SecretRef;
  /** Base of the Asgardeo API (tests point this at a local contract server). */
  readonly apiBaseUrl: string;
  /**
   * How registered clients get their id: `generated` (default) = the proxy picks a random id and
   * sends it with the application, so the M2M token needs only `internal_application_mgt_create`;
   * `read_back` = Asgardeo picks it and the proxy reads it back (also needs
   * `internal_application_mgt_view`, which can read every application's settings).
   */
  readonly clientIdMode?: 'generated' | 'read_back';
}

/** `<api>/t/<org>`: the organization's base URL (the org name is `[a-z0-9-]`, checked below). */
export function asgardeoTenantBase(a: Pick<AsgardeoConfig, 'apiBaseUrl' | 'orgName'>): string {
  return `${a.apiBaseUrl}/t/${encodeURIComponent(a.orgName)}`;
}

export function parseAsgardeo(r: ConfigReader): { asgardeo: AsgardeoConfig } & TokenDefaults {
  const s = new Section(r.obj(r.has('asgardeo') ? 'asgardeo' : 'demo'), ASGARDEO.keys);
  const orgName = s.r.reqStr('org_name', `is required for provider "asgardeo"`);
  if (!/^[a-z0-9][a-z0-9-]{0,99}$/i.test(orgName)) {
    throw new ConfigError(s.key('org_name'), `must be an Asgardeo organization name (got "${orgName}")`);
  }
  const clientSecret = s.secret('client_secret');
  if (!clientSecret)
    throw new ConfigError(s.key('client_secret'), 'or `client_secret_ssm_parameter` is required');
  const apiBaseUrl = s.url('api_base_url').replace(/\/+$/, '');
  const asgardeo: AsgardeoConfig = {
    orgName,
    clientId: s.r.reqStr('client_id', 'is required for provider "asgardeo"'),
    clientSecret,
    apiBaseUrl,
    clientIdMode: s.str('client_id_mode'),
  };
  const oauth2 = `${asgardeoTenantBase(asgardeo)}/oauth2`;
  return { asgardeo, issuer: `${oauth2}/token`, jwksUri: `${oauth2}/jwks` };
}
