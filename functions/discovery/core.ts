/**
 * Discovery/registration core (authorization-server facade). Scaffold: completed in the
 * "Discovery and registration" issue.
 */
import type { Config } from '../shared/config.ts';
import { OAuthError, errorResponse } from '../shared/errors.ts';

export type DiscoveryHandler = (req: Request) => Promise<Response>;

export function createDiscovery(_cfg: Config): DiscoveryHandler {
  return async () => errorResponse(new OAuthError(404, 'not_found', 'no such endpoint'));
}
