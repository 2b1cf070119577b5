/**
 * What every endpoint of the facade gets: the function's parts, built once (`Facade`), and the
 * request (`FacadeExchange`, see shared/endpoint.ts).
 */
import { readBounded } from '../../shared/body.ts';
import type { Config } from '../../shared/config/index.ts';
import type { Exchange, Found } from '../../shared/endpoint.ts';
import { sourceIpOf } from '../../shared/function-url.ts';
import type { Logger } from '../../shared/log.ts';
import type { ClientBinding } from '../client-binding/types.ts';
import type { DiscoveryRoute } from '../metadata.ts';
import type { IdentityProvider } from '../providers/types.ts';
import type { RateLimiter, ReplayGuard } from '../throttle.ts';

export interface Facade {
  readonly cfg: Config;
  readonly provider: IdentityProvider;
  readonly binding: ClientBinding;
  readonly log: Logger;
  /** The HTTP client and timeout of calls to the IdP token endpoint (idp-http.ts). */
  readonly idp: { readonly fetch: typeof fetch; readonly timeoutMs: number };
  /** Registrations per source address (`discovery.registration_rate_per_minute`, this instance). */
  readonly registrations: RateLimiter;
  /** Failed token requests per source address (`discovery.token_failures_per_minute`, this instance). */
  readonly tokenFailures: RateLimiter;
  /** Sealed consent tokens already submitted on this instance (consent.ts). */
  readonly consentsUsed: ReplayGuard;
}

/** A route of the facade, with the issuer it was resolved against. */
export type FacadeRoute = DiscoveryRoute & { readonly issuer: string };

export interface FacadeExchange extends Exchange<Found<FacadeRoute>> {
  /** The facade's issuer: `discovery.base_url`, else the origin the request arrived on. */
  readonly issuer: string;
  /** CORS headers for an allowed cross-origin caller of /register and /token. */
  readonly cors: Record<string, string>;
}

export type Endpoint = (f: Facade, x: FacadeExchange) => Promise<Response>;

/**
 * A body with a hard byte limit (the Function URL already caps it at 6 MB); over it, `limit + 1`
 * zero bytes, which the endpoint's own size check turns into its 413.
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  return (await readBounded(req, limit)) ?? new Uint8Array(limit + 1);
}

/** The address Lambda saw the request come from, as a rate-limit key (`unknown` shares one). */
export function sourceAddress(req: Request): string {
  return sourceIpOf(req) ?? 'unknown';
}
