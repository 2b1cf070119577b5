/**
 * Lambda entry point of the discovery/registration function (Function URL, BUFFERED).
 * Built once per execution environment: config (validated at cold start), the secret resolver
 * (SSM, preloaded at cold start and cached) and the identity provider (its IdP metadata cache).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Config, configFromEnv } from '../shared/config/index.ts';
import { DependencyError, OAuthError, temporarilyUnavailable } from '../shared/errors.ts';
import { eventToRequest, originOf, toBufferedResult } from '../shared/function-url.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { createDiscovery } from './core.ts';
import { createProvider } from './providers/index.ts';
import type { ProviderDeps } from './providers/types.ts';
import { MIN_KEY_BYTES } from './seal.ts';
import { createSecretResolver, type SecretResolver, secretRefsOf } from './secrets.ts';

export interface DiscoveryHandlerOptions {
  readonly fetch?: typeof fetch;
  readonly secrets?: SecretResolver & { preload?(refs: ReturnType<typeof secretRefsOf>): Promise<void> };
  readonly log?: Logger;
  /** Extra provider dependencies (e.g. a Cognito client for a local endpoint). */
  readonly providerDeps?: Partial<ProviderDeps> & Record<string, unknown>;
}

export function buildHandler(config: Config, opts: DiscoveryHandlerOptions = {}) {
  const log = opts.log ?? createLogger('discovery');
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

  // The relay's sealing key (discovery.signing_key), resolved with the other secrets.
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
  const core = createDiscovery(config, { provider, fetch: opts.fetch, log, ready, signingKey });
  return async (
    event: APIGatewayProxyEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const req = eventToRequest(event, originOf(event, originFromBase(config.discovery.baseUrl)));
    return toBufferedResult(await core(req, { requestId: context?.awsRequestId }));
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
  cached ??= buildHandler(configFromEnv());
  return cached(event, context);
};
