/**
 * `POST /token`: validated here (token.ts), made fit for the IdP by the client binding and the
 * provider, forwarded to the IdP token endpoint (idp-http.ts), and the IdP's answer mapped onto
 * ours (`no-store`; IdP failures → 503 `temporarily_unavailable`). A source address whose token
 * requests keep failing (junk codes, guessed refresh tokens) gets 429 before any IdP call.
 */
import { isBasic } from '../../shared/encoding.ts';
import { methodNotAllowed, OAuthError, tooManyRequests } from '../../shared/errors.ts';
import { idpCall } from '../idp-http.ts';
import { parseTokenRequest, tokenResponseFromIdp } from '../token.ts';
import { type Endpoint, type Facade, type FacadeExchange, readBody, sourceAddress } from './context.ts';

export const token: Endpoint = async (f, x) => {
  if (x.req.method !== 'POST') throw methodNotAllowed('POST, OPTIONS');
  const source = sourceAddress(x.req);
  const wait = f.tokenFailures.retryAfter(source);
  if (wait > 0) {
    throw tooManyRequests(
      'too many failed token requests; try again later',
      `token failures from ${source}`,
      wait,
    );
  }
  try {
    const out = await exchange(f, x);
    if (out.status >= 400) f.tokenFailures.take(source);
    return out;
  } catch (e) {
    // The client's failures count; ours (the IdP unreachable, 5xx) do not.
    if (e instanceof OAuthError && e.status < 500) f.tokenFailures.take(source);
    throw e;
  }
};

async function exchange(f: Facade, x: FacadeExchange): Promise<Response> {
  const params = parseTokenRequest(x.req.headers.get('content-type'), await readBody(x.req, 64 * 1024), {
    authorization: x.req.headers.get('authorization'),
    clientCredentials: f.cfg.discovery.clientCredentials,
  });
  x.access.grantType = params.get('grant_type');
  const forward = await f.binding.tokenRequest(params, x.req.headers.get('authorization'), x.issuer);
  const meta = await f.provider.metadata();
  const body = await f.provider.tokenParams(params);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  // RFC 6749 §2.3.1: the client authenticates to the IdP, which issued its credentials.
  if (isBasic(forward.authorization)) headers.authorization = forward.authorization;
  const reply = await idpCall(
    f.idp.fetch,
    'IdP token endpoint',
    meta.token_endpoint,
    { method: 'POST', headers, body: body.toString() },
    { timeoutMs: f.idp.timeoutMs },
  );
  const out = tokenResponseFromIdp(forward.reply ? forward.reply(reply) : reply);
  for (const [k, v] of Object.entries(x.cors)) out.headers.set(k, v);
  x.access.idpStatus = reply.status;
  return out;
}
