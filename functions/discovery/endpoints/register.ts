/**
 * `POST /register` (RFC 7591): validated here (dcr.ts), then one client per registration at the
 * IdP through the client binding and the provider; never a shared static client id.
 */
import { jsonResponse, methodNotAllowed, tooManyRequests } from '../../shared/errors.ts';
import { parseRegistrationBody, registrationResponse, validateRegistration } from '../dcr.ts';
import { type Endpoint, readBody, sourceAddress } from './context.ts';

export const register: Endpoint = async (f, x) => {
  if (x.req.method !== 'POST') throw methodNotAllowed('POST, OPTIONS');
  // Anonymous registration creates an IdP client each time: bounded per source address.
  const source = sourceAddress(x.req);
  const wait = f.registrations.take(source);
  if (wait > 0) {
    throw tooManyRequests(
      'too many registrations; try again later',
      `registration rate limit for ${source}`,
      wait,
    );
  }
  const raw = parseRegistrationBody(x.req.headers.get('content-type'), await readBody(x.req, 64 * 1024));
  const reg = validateRegistration(
    raw,
    f.cfg.discovery.allowedRedirectSchemes,
    f.cfg.discovery.allowedRedirectHosts,
  );
  const created = await f.binding.register(reg, x.issuer);
  x.access.clientId = created.client_id;
  f.log.info('client registered', {
    requestId: x.requestId,
    clientId: created.client_id,
    redirectUris: reg.redirect_uris,
  });
  return jsonResponse(201, registrationResponse(reg, created), x.cors);
};
