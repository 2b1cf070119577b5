/**
 * Lambda entry point of the discovery/registration function (Function URL, BUFFERED).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type Config, configFromEnv } from '../shared/config.ts';
import { eventToRequest, originOf, toBufferedResult } from '../shared/function-url.ts';
import { createDiscovery } from './core.ts';

export function buildHandler(config: Config) {
  const core = createDiscovery(config);
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const req = eventToRequest(event, originOf(event, config.discovery.baseUrl));
    return toBufferedResult(await core(req));
  };
}

let cached: ReturnType<typeof buildHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  cached ??= buildHandler(configFromEnv());
  return cached(event);
};
