/**
 * `Config`: the frozen, fully defaulted result of `parseConfig`, one part per YAML section.
 */
import type { ProviderName, UpstreamConfig } from './base.ts';
import type { CorsConfig } from './cors.ts';
import type { DiscoveryConfig } from './discovery.ts';
import type { LoggingConfig } from './logging.ts';
import type { McpPolicyConfig } from './mcp-policy.ts';
import type { TransportConfig } from './original.ts';
import type { PathsConfig } from './paths.ts';
import type { ProtectedResourceMetadataConfig } from './protected-resource-metadata.ts';
import type { AsgardeoConfig } from './providers/asgardeo.ts';
import type { CognitoConfig } from './providers/cognito.ts';
import type { EmbeddedConfig } from './providers/embedded.ts';
import type { OidcConfig } from './providers/oidc.ts';
import type { ProxySecretConfig } from './proxy-secret.ts';
import type { StreamConfig } from './stream.ts';
import type { TokenConfig } from './token.ts';

/** `proxy_secret`, `session_binding`, `upstream_identity`: proxy-secret.ts. */
export interface Config extends ProxySecretConfig {
  readonly provider: ProviderName;
  readonly upstream: UpstreamConfig;
  /** Public origin of the proxy (CloudFront/custom domain); else learned from the Function URL host. */
  readonly proxyBaseUrl?: string;
  /** Port of the local runner's proxy. */
  readonly listenPort: number;
  readonly paths: PathsConfig;
  readonly cors: CorsConfig;
  readonly protectedResourceMetadata: ProtectedResourceMetadataConfig;
  readonly token: TokenConfig;
  /** Scopes per MCP method / tool / prompt / resource, and the scope hierarchy (mcp-policy.ts). */
  readonly mcpPolicy: McpPolicyConfig;
  /** Prefix of the identity headers sent upstream; inbound headers with it are stripped. */
  readonly identityHeaderPrefix: string;
  readonly stream: StreamConfig;
  /** Debug-log sampling (shared/log.ts). */
  readonly logging: LoggingConfig;
  /** The discovery/registration function (authorization-server facade). */
  readonly discovery: DiscoveryConfig;
  /** `oidc` provider (original's `default` block). */
  readonly oidc?: OidcConfig;
  /** `asgardeo` provider (original's `asgardeo` / `demo` blocks). */
  readonly asgardeo?: AsgardeoConfig;
  /** `cognito` provider. */
  readonly cognito?: CognitoConfig;
  /** Embedded demo IdP (local runner only). */
  readonly embedded?: EmbeddedConfig;
  /** `acknowledge`: risky settings the config means (synth warns instead of failing). */
  readonly acknowledged: readonly string[];
  /** `transport_mode` and the stdio server it names (the local runner only; functions refuse stdio). */
  readonly transport: TransportConfig;
  /** Keys of the original Go proxy's config.yaml present here without effect (logged at cold start). */
  readonly ignoredKeys: readonly string[];
  /** How keys of the original are honoured where that differs from it (logged at cold start, info). */
  readonly notes: readonly string[];
}
