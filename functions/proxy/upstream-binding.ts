/**
 * What the proxy adds to a request on its way upstream beyond the header policy (headers.ts):
 * its session ids unwrapped and bound to the token's owner (mcp/session-id.ts, `session_binding`)
 * and the signed identity JWT (upstream-identity.ts, `upstream_identity`). Both use the proxy's
 * keys (proxy-keys.ts), read at the first request that needs them: unreadable, the request fails
 * closed (503) before anything reaches the upstream.
 */
import type { Config } from '../shared/config/index.ts';
import type { Exchange } from '../shared/endpoint.ts';
import type { ForwardOptions } from './forward/forward.ts';
import { bindSession } from './mcp/session-id.ts';
import type { ProxyKeys } from './proxy-keys.ts';
import type { Identity } from './token.ts';
import { signIdentity } from './upstream-identity.ts';

export async function upstreamBinding(
  cfg: Config,
  keys: () => Promise<ProxyKeys>,
  x: Exchange<unknown>,
  identity: Identity,
): Promise<ForwardOptions> {
  const id = cfg.upstreamIdentity;
  if (!cfg.sessionBinding.enabled && !id.enabled) return {};
  const k = await keys();
  const session = cfg.sessionBinding.enabled
    ? bindSession(k.session, identity, x.req, x.url.search)
    : undefined;
  const jwt = id.enabled ? await signIdentity(k, id, identity, x.url.origin) : undefined;
  return {
    search: session?.search,
    session,
    headers(h) {
      session?.unwrapHeaders(h);
      if (jwt) h[id.header] = jwt;
    },
  };
}
