/**
 * The provider block the chosen provider reads, and the token defaults it implies.
 */
import type { ProviderName } from '../base.ts';
import type { ConfigReader } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';
import { type AsgardeoConfig, parseAsgardeo } from './asgardeo.ts';
import { type CognitoConfig, parseCognito } from './cognito.ts';
import { type EmbeddedConfig, parseEmbedded } from './embedded.ts';
import { type OidcConfig, parseOidc } from './oidc.ts';

export interface ProviderBlocks {
  readonly provider: ProviderName;
  readonly oidc?: OidcConfig;
  readonly asgardeo?: AsgardeoConfig;
  readonly cognito?: CognitoConfig;
  readonly embedded?: EmbeddedConfig;
}

/** `name` undefined = the embedded demo IdP. */
export function parseProvider(
  r: ConfigReader,
  name: ProviderName | undefined,
): { blocks: ProviderBlocks; token: TokenDefaults } {
  switch (name) {
    case 'oidc': {
      const { oidc, ...token } = parseOidc(r);
      return { blocks: { provider: name, oidc }, token };
    }
    case 'asgardeo': {
      const { asgardeo, ...token } = parseAsgardeo(r);
      return { blocks: { provider: name, asgardeo }, token };
    }
    case 'cognito': {
      const { cognito, ...token } = parseCognito(r);
      return { blocks: { provider: name, cognito }, token };
    }
    default: {
      const { embedded, ...token } = parseEmbedded(r);
      return { blocks: { provider: 'embedded', embedded }, token };
    }
  }
}
