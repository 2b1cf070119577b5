/**
 * `POST /token`: validated here (token.ts), made fit for the IdP by the client binding and the
 * provider, forwarded to the IdP token endpoint (idp-http.ts), and the IdP's answer mapped onto
 * ours (`no-store`; IdP failures → 503 `temporarily_unavailable`).
 */
import { isBasic } from '../../shared/encoding.ts';
import { methodNotAllowed } from '../../shared/errors.ts';
import { idpCall } from '../idp-http.ts';
import { parseTokenRequest, tokenResponseFromIdp } from '../token.ts';
import { type Endpoint, readBody } from './context.ts';

export const token: Endpoint = async (f, x) => {
  if (x.req.method !== 'POST') throw methodNotAllowed('POST, OPTIONS');
  const params = parseTokenRequest(x.req.headers.get('content-type'), await readBody(x.req, 64 * 1024));
  x.access.grantType = params.get('grant_type');
  const authorization = await f.binding.tokenRequest(params, x.req.headers.get('authorization'), x.issuer);
  const meta = await f.provider.metadata();
  const body = await f.provider.tokenParams(params);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  // RFC 6749 §2.3.1: the client authenticates to the IdP, which issued its credentials.
  if (isBasic(authorization)) headers.authorization = authorization;
  const reply = await idpCall(
    f.idp.fetch,
    'IdP token endpoint',
    meta.token_endpoint,
    { method: 'POST', headers, body: body.toString() },
    { timeoutMs: f.idp.timeoutMs },
  );
  const out = tokenResponseFromIdp(reply);
  for (const [k, v] of Object.entries(x.cors)) out.headers.set(k, v);
  x.access.idpStatus = reply.status;
  return out;
};
