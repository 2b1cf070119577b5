/**
 * `embedded` (provider `embedded`): the local runner's demo IdP.
 */
import { open, table } from '../keys.ts';
import type { ConfigReader } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';

export const EMBEDDED = table('embedded', {
  port: { type: 'int', default: 9000, min: 1, max: 65535, doc: 'Port of the demo IdP (oidc-provider).' },
  issuer: { type: 'url', derived: '`http://localhost:<port>`', doc: 'Its issuer URL.' },
});

/** Embedded demo IdP (local runner only). */
export interface EmbeddedConfig {
  readonly issuer: string;
  readonly port: number;
}

export function parseEmbedded(r: ConfigReader): { embedded: EmbeddedConfig } & TokenDefaults {
  const s = open(r, EMBEDDED);
  const port = s.int('port');
  const embedded = { issuer: s.url('issuer') ?? `http://localhost:${port}`, port };
  return { embedded, issuer: embedded.issuer };
}
