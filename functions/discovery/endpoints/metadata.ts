/**
 * Authorization server metadata (RFC 8414 / OpenID Connect Discovery): public, cacheable, at
 * every URL metadata.ts routes here.
 */
import { publicDocument } from '../../shared/endpoint.ts';
import { buildAsMetadata } from '../metadata.ts';
import type { Endpoint } from './context.ts';

export const metadata: Endpoint = async (f, x) =>
  publicDocument(x.req, () =>
    buildAsMetadata({
      issuer: x.issuer,
      jwksUri: f.cfg.token.jwksUri,
      scopesSupported: f.cfg.protectedResourceMetadata.scopesSupported?.filter((s) => s !== 'offline_access'),
      overrides: f.provider.metadataOverrides?.(),
      issInAuthorizationResponse: f.binding.issInAuthorizationResponse,
      clientCredentials: f.cfg.discovery.clientCredentials,
      clientIdMetadataDocuments: f.binding.clientIdMetadataDocuments,
    }),
  );
