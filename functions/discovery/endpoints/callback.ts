/**
 * `GET <issuer>/callback`, the facade's redirect URI at the IdP, served only with the relay
 * (relay.ts): the IdP's code or error goes on to the client's redirect URI of the flow this
 * browser consented to, with the facade's `iss` (RFC 9207).
 */
import { badRequest, methodNotAllowed } from '../../shared/errors.ts';
import type { AuthorizationResponseRelay } from '../client-binding/types.ts';
import { redirectUriProblem } from '../redirect-uri.ts';
import type { Endpoint } from './context.ts';

export function callback(relay: AuthorizationResponseRelay): Endpoint {
  return async (f, x) => {
    if (x.req.method !== 'GET') throw methodNotAllowed('GET');
    const query = x.url.searchParams;
    const state = await relay.readState(x.issuer, query.get('state'), x.req.headers.get('cookie'));
    // Defence in depth: the URI was checked against the registration when the state was issued.
    const problem = redirectUriProblem(
      state.ru,
      f.cfg.discovery.allowedRedirectSchemes,
      f.cfg.discovery.allowedRedirectHosts,
    );
    if (problem) throw badRequest('invalid_request', 'invalid authorization response', problem);
    // RFC 9207: an `iss` from the IdP must be the IdP's (mix-up defence); ours replaces it.
    const idpIss = query.get('iss');
    if (idpIss !== null && idpIss !== (await f.provider.metadata()).issuer) {
      throw badRequest('invalid_request', 'invalid authorization response', `iss ${idpIss} is not the IdP's`);
    }
    x.access.clientId = state.cid;
    return new Response(null, {
      status: 302,
      headers: {
        location: await relay.clientRedirect(x.issuer, state, query),
        'cache-control': 'no-store',
        'set-cookie': state.clearCookie,
      },
    });
  };
}
