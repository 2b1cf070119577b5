/**
 * Lambda entry point of the streaming proxy (Function URL, invoke mode RESPONSE_STREAM).
 * Everything built here lives at module scope and is reused across invocations: config
 * (validated at cold start), the JWT verifier and its JWKS cache, the upstream connection pool.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type Config, configFromEnv, logIgnoredKeys } from '../shared/config/index.ts';
import { eventToRequest, originOf, writeStreamingResponse } from '../shared/function-url.ts';
import { configureLogging, createLogger, runInvocation } from '../shared/log.ts';
import { createMetrics } from '../shared/metrics.ts';
import { type OriginGuard, originGuardFromEnv } from '../shared/origin-secret.ts';
import { createProxy } from './pipeline.ts';
import { createVerifier } from './verifiers.ts';

/** Leave this much of the Lambda timeout to end the stream cleanly. */
const SAFETY_MS = 3000;

export interface ProxyHandlerOptions {
  /** The CloudFront variant's origin check (origin-secret.ts). @default none */
  readonly originGuard?: OriginGuard;
}

export function buildHandler(config: Config, opts: ProxyHandlerOptions = {}) {
  configureLogging(config.logging);
  const log = createLogger('proxy');
  const metrics = createMetrics('proxy');
  logIgnoredKeys(config, log);
  const verifier = createVerifier(config, { onJwksFetch: (ok) => metrics.jwksRefresh(ok) });
  const proxy = createProxy(config, { verifier, log, metrics });
  verifier
    .warm()
    .catch((e) => log.warn('JWKS warm-up failed; will retry on first request', { reason: String(e) }));

  return awslambda.streamifyResponse(
    async (event: APIGatewayProxyEventV2, responseStream: Writable, context: Context) =>
      // Every log line and metric of the invocation carries its request id (shared/log.ts).
      runInvocation(context.awsRequestId, async () => {
        // Pooled keep-alive sockets must not hold the invocation open after the stream ends.
        context.callbackWaitsForEmptyEventLoop = false;
        // Behind CloudFront: a request without its origin secret gets 403 before anything else.
        const refused = await opts.originGuard?.admit(event);
        if (refused) return writeStreamingResponse(refused, responseStream);
        const origin = originOf(event, config.proxyBaseUrl);
        const req = eventToRequest(event, origin, undefined, { sourceIp: true });
        const budgetMs = Math.max(1000, context.getRemainingTimeInMillis() - SAFETY_MS);
        const res =
          req instanceof Response ? req : await proxy(req, { budgetMs, requestId: context.awsRequestId });
        await writeStreamingResponse(res, responseStream);
      }),
  );
}

let cached: ReturnType<typeof buildHandler> | undefined;

/** The deployed handler: config comes from the environment, validated once at cold start. */
export const handler: ReturnType<typeof buildHandler> = (() => {
  if (typeof awslambda === 'undefined' || !process.env.MCP_AUTH_PROXY_CONFIG) {
    // Imported by tests or tools without a Lambda environment: build lazily on first call.
    return ((...args: Parameters<ReturnType<typeof buildHandler>>) => {
      cached ??= buildHandler(configFromEnv(), { originGuard: originGuardFromEnv() });
      return cached(...args);
    }) as ReturnType<typeof buildHandler>;
  }
  return buildHandler(configFromEnv(), {
    originGuard: originGuardFromEnv(process.env, createLogger('proxy')),
  });
})();
