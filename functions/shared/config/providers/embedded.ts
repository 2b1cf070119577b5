/**
 * `embedded` (provider `embedded`): the local runner's demo IdP.
 */
import { open, table } from '../keys.ts';
import type { ConfigReader, SecretRef } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';

export const EMBEDDED = table('embedded', {
  port: { type: 'int', default: 9000, min: 1, max: 65535 },
  issuer: { type: 'url', derived: '`http://localhost:<port>`' },
  registration_token: {
    type: 'secret',
  },
});

/** Embedded demo IdP (local runner only). */
export interface EmbeddedConfig {
  readonly issuer: string;
  readonly port: number;
  /** Initial access token for the demo IdP's registration endpoint (RFC 7591 §3). */
  readonly registrationToken?: SecretRef;
}

export function parseEmbedded(r: ConfigReader): { embedded: EmbeddedConfig } & TokenDefaults {
  const s = open(r, EMBEDDED);
  const port = s.int('port');
  const embedded = {
    issuer: s.url('issuer') ?? `http://localhost:${port}`,
    port,
    registrationToken: s.secret('registration_token'),
  };
  return { embedded, issuer: embedded.issuer };
}
