/**
 * `GET /authorize`: validated (authorize.ts: PKCE S256, allow-listed parameters, redirect URI
 * policy; the client binding: the client and its registered redirect URI), then the consent page
 * (consent.ts) or, with `discovery.consent: off`, straight on to the IdP.
 */
import { methodNotAllowed } from '../../shared/errors.ts';
import { type AuthorizeRequest, idpAuthorizeUrl, validateAuthorizeRequest } from '../authorize.ts';
import type { AuthorizingClient } from '../client-binding/types.ts';
import { consentPage, consentToken, newNonce } from '../consent.ts';
import { issuerPath } from '../metadata.ts';
import type { Endpoint, Facade } from './context.ts';

/** A validated authorization request and the client it comes from (here and at the consent POST). */
export async function authorizationRequest(
  f: Facade,
  query: URLSearchParams,
  issuer: string,
): Promise<{ ar: AuthorizeRequest; client: AuthorizingClient }> {
  const ar = validateAuthorizeRequest(
    query,
    f.cfg.discovery.allowedRedirectSchemes,
    f.cfg.discovery.allowedRedirectHosts,
  );
  return { ar, client: await f.binding.resolveClient(ar, issuer) };
}

/** The redirect to the IdP's authorization endpoint, setting `cookies` and the binding's. */
export async function toIdp(
  f: Facade,
  ar: AuthorizeRequest,
  client: AuthorizingClient,
  cookies: readonly string[] = [],
): Promise<Response> {
  const meta = await f.provider.metadata();
  // Provider rules first; the binding's own values must win over any configured parameter.
  const params = await f.provider.authorizeParams(new URLSearchParams(ar.params));
  const all = [...cookies, ...client.toIdp(params)];
  const headers = new Headers({
    'cache-control': 'no-store',
    location: idpAuthorizeUrl(meta.authorization_endpoint, params),
  });
  for (const c of all) headers.append('set-cookie', c);
  return new Response(null, { status: 302, headers });
}

export const authorize: Endpoint = async (f, x) => {
  if (x.req.method !== 'GET') throw methodNotAllowed('GET');
  const { ar, client } = await authorizationRequest(f, x.url.searchParams, x.issuer);
  x.access.clientId = ar.clientId;
  if (f.cfg.discovery.consent === 'off') return toIdp(f, ar, client);
  // Fail before asking the user when the IdP is unreachable or misconfigured.
  await f.provider.metadata();
  const nonce = newNonce();
  const query = ar.params.toString();
  return consentPage(
    {
      action: `${issuerPath(x.issuer)}/authorize/consent`,
      clientId: ar.clientId,
      clientName: client.name,
      documentHost: client.documentHost,
      redirectUri: ar.redirectUri,
      scope: ar.scope,
      resources: ar.resources,
      query,
    },
    nonce,
    consentToken(await f.binding.consentKey(x.issuer), nonce, query),
  );
};
