/**
 * The discovery function: the authorization-server facade in front of the identity provider.
 * Lambda entry point (Function URL, BUFFERED) and the one place the facade is put together:
 * config (validated at cold start), the secret resolver (SSM, preloaded at cold start and cached),
 * the identity provider (its IdP metadata cache), the client binding and the route table below.
 *
 * Confused deputy (MCP security best practices): by default each registration creates its own
 * client at the IdP. With `discovery.upstream_client` the facade uses ONE static client at the
 * IdP on behalf of all the clients it registers itself, which the rule allows only with the
 * user's consent for each of them: the config refuses `discovery.consent: off` then. Because
 * registration is open and the IdP may show no consent screen (Cognito) or skip it for a
 * signed-in user, the facade asks the user itself before every authorization request goes on to
 * the IdP (consent.ts): who asks, and where the code will be delivered.
 * Clients identified by metadata documents (cimd.ts) likewise share one configured IdP client, so
 * for them too the facade's consent (required by the config) is what tells them apart.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Config, configFromEnv, logIgnoredKeys } from '../shared/config/index.ts';
import { basicAuth } from '../shared/encoding.ts';
import type { EndpointOptions, Handler } from '../shared/endpoint.ts';
import { DependencyError } from '../shared/errors.ts';
import { eventToRequest, originOf, toBufferedResult } from '../shared/function-url.ts';
import { configureLogging, createLogger, type Logger, runInvocation } from '../shared/log.ts';
import { createMetrics, type Metrics } from '../shared/metrics.ts';
import { type OriginGuard, originGuardFromEnv } from '../shared/origin-secret.ts';
import { MIN_KEY_BYTES } from '../shared/seal.ts';
import { createDocumentFetch, createDocumentResolver, type DocumentFetchOptions } from './cimd-fetch.ts';
import { directBinding } from './client-binding/direct.ts';
import { type DocumentClients, relayBinding } from './client-binding/relay.ts';
import { upstreamClientBinding } from './client-binding/upstream.ts';
import { dispatch } from './dispatch.ts';
import { authorize } from './endpoints/authorize.ts';
import { callback } from './endpoints/callback.ts';
import { consent } from './endpoints/consent.ts';
import { metadata } from './endpoints/metadata.ts';
import { register } from './endpoints/register.ts';
import { token } from './endpoints/token.ts';
import { IDP_TIMEOUT_MS } from './idp-http.ts';
import { createProvider } from './providers/index.ts';
import type { IdentityProvider, ProviderDeps } from './providers/types.ts';
import { createSecretResolver, type SecretResolver, secretRefsOf } from './secrets.ts';
import { createRateLimiter, createReplayGuard } from './throttle.ts';

export type DiscoveryHandler = Handler<EndpointOptions>;

export interface DiscoveryDeps {
  readonly provider: IdentityProvider;
  /** HTTP client for the IdP token endpoint (through idp-http.ts). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  readonly log?: Logger;
  /** EMF metrics (shared/metrics.ts). @default none */
  readonly metrics?: Metrics;
  /** Resolves when the function is configured (secrets loaded); rejects to fail closed. */
  readonly ready?: () => Promise<void>;
  /** Timeout of calls to the IdP token endpoint (ms). @default IDP_TIMEOUT_MS */
  readonly idpTimeoutMs?: number;
  /** The relay's signing key (`discovery.signing_key`); no relay without it (relay.ts). */
  readonly signingKey?: () => Promise<Uint8Array>;
  /** The secret of `discovery.upstream_client` (one client at the IdP, upstream.ts). */
  readonly upstreamSecret?: () => Promise<string>;
  /**
   * The IdP client of clients identified by metadata documents (`discovery.cimd_idp_client_id`);
   * with the relay, https `client_id` URLs are resolved (cimd-fetch.ts) only when it is given.
   */
  readonly documentIdpClient?: DocumentClients['idpClient'];
  /** Seams of the metadata document fetch (tests: loopback, trust anchors, DNS); never config. */
  readonly documentFetch?: DocumentFetchOptions;
}

/** Clients identified by metadata documents: with the relay and their IdP client only. */
function documentClients(cfg: Config, deps: DiscoveryDeps): DocumentClients | undefined {
  if (!deps.signingKey || !deps.documentIdpClient) return undefined;
  const fetchDocument = createDocumentFetch(deps.documentFetch);
  return {
    resolver: createDocumentResolver(fetchDocument, cfg.discovery.allowedRedirectSchemes),
    idpClient: deps.documentIdpClient,
  };
}

/** The client binding of this config (client-binding/): chosen once. */
function bindingFor(cfg: Config, deps: DiscoveryDeps) {
  const upstream = cfg.discovery.upstreamClient;
  if (!deps.signingKey) return directBinding(deps.provider);
  if (!upstream) return relayBinding(deps.provider, deps.signingKey, documentClients(cfg, deps));
  if (!deps.upstreamSecret) throw new Error('createDiscovery: discovery.upstream_client needs its secret');
  return upstreamClientBinding({ ...upstream, secret: deps.upstreamSecret }, deps.signingKey);
}

/** The facade, runtime-neutral: Web `Request` in, Web `Response` out. */
export function createDiscovery(cfg: Config, deps: DiscoveryDeps): DiscoveryHandler {
  const provider = deps.provider;
  // Chosen once: no endpoint asks whether the relay is on.
  const binding = bindingFor(cfg, deps);
  const facade = {
    cfg,
    provider,
    binding,
    log: deps.log ?? createLogger('discovery'),
    metrics: deps.metrics,
    idp: { fetch: deps.fetch ?? fetch, timeoutMs: deps.idpTimeoutMs ?? IDP_TIMEOUT_MS },
    registrations: createRateLimiter(cfg.discovery.registrationRatePerMinute),
    tokenFailures: createRateLimiter(cfg.discovery.tokenFailuresPerMinute),
    consentsUsed: createReplayGuard(),
  };
  // Route → endpoint (routes: metadata.ts; what runs around each endpoint: dispatch.ts).
  return dispatch(
    facade,
    {
      metadata,
      register,
      authorize,
      consent,
      callback: binding.relay ? callback(binding.relay) : { off: 'relay is off (no discovery.signing_key)' },
      token,
    },
    deps.ready,
  );
}

export interface DiscoveryHandlerOptions {
  readonly fetch?: typeof fetch;
  readonly secrets?: SecretResolver & { preload?(refs: ReturnType<typeof secretRefsOf>): Promise<void> };
  readonly log?: Logger;
  readonly metrics?: Metrics;
  /** Extra provider dependencies (e.g. a Cognito client for a local endpoint). */
  readonly providerDeps?: Partial<ProviderDeps> & Record<string, unknown>;
  /** The CloudFront variant's origin check (origin-secret.ts). @default none */
  readonly originGuard?: OriginGuard;
  /** Seams of the metadata document fetch (tests only, see DiscoveryDeps). */
  readonly documentFetch?: DocumentFetchOptions;
}

export function buildHandler(config: Config, opts: DiscoveryHandlerOptions = {}) {
  configureLogging(config.logging);
  const log = opts.log ?? createLogger('discovery');
  logIgnoredKeys(config, log);
  const secrets = opts.secrets ?? createSecretResolver({ log });
  const provider = createProvider(config, { fetch: opts.fetch, secrets, log, ...opts.providerDeps });

  // Cold start: every SSM secret the config names, in one batch. A failure fails closed (every
  // request gets 503 and the log names the parameter) and is retried by the next request.
  const refs = secretRefsOf(config);
  let loaded: Promise<void> | undefined;
  const ready = async () => {
    if (!refs.length || !secrets.preload) return;
    loaded ??= secrets.preload(refs).catch((e) => {
      loaded = undefined;
      throw e instanceof DependencyError ? e : new DependencyError('secrets', 'unreachable', String(e));
    });
    return loaded;
  };
  ready().catch(() => {});

  // The relay's signing key (discovery.signing_key), resolved with the other secrets.
  const signingRef = config.discovery.signingKey;
  const signingKey = signingRef
    ? async () => {
        await ready();
        const key = Buffer.from(await secrets.resolve(signingRef), 'utf8');
        if (key.length < MIN_KEY_BYTES) {
          throw new DependencyError(
            'secrets',
            'misconfigured',
            `discovery.signing_key is shorter than ${MIN_KEY_BYTES} bytes`,
            'the service is not available',
          );
        }
        return key;
      }
    : undefined;
  const upstreamRef = config.discovery.upstreamClient?.clientSecret;
  const upstreamSecret = upstreamRef
    ? async () => {
        await ready();
        return secrets.resolve(upstreamRef);
      }
    : undefined;
  const facade = createDiscovery(config, {
    provider,
    fetch: opts.fetch,
    log,
    metrics: opts.metrics ?? createMetrics('discovery'),
    ready,
    signingKey,
    upstreamSecret,
    documentIdpClient: documentIdpClient(config, secrets, ready),
    documentFetch: opts.documentFetch,
  });
  return (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> =>
    // Every log line and metric of the invocation carries its request id (shared/log.ts).
    runInvocation(context?.awsRequestId, () => invoke(event, context));

  async function invoke(event: APIGatewayProxyEventV2, context?: Context) {
    // Behind CloudFront: a request without its origin secret gets 403 before anything else.
    const refused = await opts.originGuard?.admit(event);
    if (refused) return toBufferedResult(refused);
    const req = eventToRequest(event, originOf(event, originFromBase(config.discovery.baseUrl)), undefined, {
      sourceIp: true,
    });
    if (req instanceof Response) return toBufferedResult(req);
    return toBufferedResult(await facade(req, { requestId: context?.awsRequestId }));
  }
}

/** The IdP client of document clients, its secret (if any) resolved with the others. */
function documentIdpClient(
  config: Config,
  secrets: SecretResolver,
  ready: () => Promise<void>,
): DiscoveryDeps['documentIdpClient'] {
  const c = config.discovery.clientIdMetadataDocuments;
  if (!c) return undefined;
  const secretRef = c.idpClientSecret;
  return async () => {
    if (!secretRef) return { clientId: c.idpClientId };
    await ready();
    return {
      clientId: c.idpClientId,
      authorization: basicAuth(c.idpClientId, await secrets.resolve(secretRef)),
    };
  };
}

/** The configured public URL may carry a path (the issuer's); requests are resolved against its origin. */
function originFromBase(baseUrl: string | undefined): string | undefined {
  return baseUrl ? new URL(baseUrl).origin : undefined;
}

let cached: ReturnType<typeof buildHandler> | undefined;

export const handler = (
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> => {
  cached ??= buildHandler(configFromEnv(), {
    originGuard: originGuardFromEnv(process.env, createLogger('discovery')),
  });
  return cached(event, context);
};
