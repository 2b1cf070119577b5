/**
 * `POST <issuer>/authorize/consent`: the user's answer on the consent page (consent.ts checks the
 * form: same origin, this browser's nonce). Allow goes on to the IdP; deny goes back to the
 * client when the binding has validated its redirect URI, else a page.
 */
import { badRequest, methodNotAllowed } from '../../shared/errors.ts';
import { CLEAR_CONSENT_COOKIE, deniedPage, readConsent, refuseReplayedConsent } from '../consent.ts';
import { authorizationRequest, toIdp } from './authorize.ts';
import { type Endpoint, readBody } from './context.ts';

export const consent: Endpoint = async (f, x) => {
  if (x.req.method !== 'POST') throw methodNotAllowed('POST');
  if (!/^application\/x-www-form-urlencoded\b/i.test(x.req.headers.get('content-type') ?? '')) {
    throw badRequest('invalid_request', 'the consent form must be form-encoded');
  }
  const form = new URLSearchParams(new TextDecoder().decode(await readBody(x.req, 32 * 1024)));
  const decision = readConsent(
    form,
    x.req.headers.get('cookie'),
    x.req.headers.get('origin'),
    x.url.origin,
    x.req.headers.get('sec-fetch-site'),
    await f.binding.consentKey(x.issuer),
  );
  refuseReplayedConsent(decision, f.consentsUsed);
  // The request is validated again: the form is client-side input like any other.
  const { ar, client } = await authorizationRequest(f, new URLSearchParams(decision.query), x.issuer);
  x.access.clientId = ar.clientId;
  x.access.consent = decision.allow ? 'allow' : 'deny';
  f.log.info('consent', {
    requestId: x.requestId,
    clientId: ar.clientId,
    redirectUri: ar.redirectUri,
    allow: decision.allow,
  });
  if (decision.allow) return toIdp(f, ar, client, [CLEAR_CONSENT_COOKIE]);
  // RFC 6749 §4.1.2.1: a refusal goes to the client only once its redirect URI is validated.
  const location = client.refusal('access_denied', 'the user denied access');
  if (location === undefined) return deniedPage();
  return new Response(null, {
    status: 302,
    headers: { location, 'cache-control': 'no-store', 'set-cookie': CLEAR_CONSENT_COOKIE },
  });
};
