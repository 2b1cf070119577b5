/**
 * The embedded demo identity provider, built on `oidc-provider` (a certified OpenID provider):
 * a login page with one demo user, dynamic client registration for the facade only (an initial access token), PKCE S256 required for
 * every authorization-code client, RFC 8707 resource indicators issuing JWT access tokens whose
 * `aud` is the MCP resource URL, and a confidential `client_credentials` client for scripts.
 * Local use only: keys and clients live in memory and are new at every start.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import type { Adapter, AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import { esc } from '../../functions/discovery/pages.ts';
import { createLogger } from '../../functions/shared/log.ts';

export interface DemoIdpOptions {
  readonly port?: number;
  /** Public issuer URL. @default http://localhost:<port> */
  readonly issuer?: string;
  /** Resource indicators the IdP will mint tokens for must start with one of these. */
  readonly resourcePrefixes: readonly string[];
  readonly scopes?: readonly string[];
  readonly user?: { readonly username: string; readonly password: string };
  readonly cliClient?: { readonly clientId: string; readonly clientSecret: string };
  readonly accessTokenTtlSeconds?: number;
  /**
   * Initial access token its registration endpoint requires (RFC 7591 §3): only the facade, which
   * holds it (`embedded.registration_token`), may register clients. @default a new random one
   */
  readonly registrationToken?: string;
  /** Accept registrations without a token: models an IdP whose DCR is open (tests only). */
  readonly openRegistration?: boolean;
  /** Offer dynamic client registration at all (false: no registration endpoint). @default true */
  readonly registration?: boolean;
  /**
   * A confidential authorization-code client registered up front: the facade's one upstream
   * client (`discovery.upstream_client`), with the facade's `/callback` as its redirect URI.
   */
  readonly facadeClient?: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly redirectUris: readonly string[];
    readonly tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  };
  /**
   * A pre-registered public client for the facade's `/callback` (PKCE, code + refresh): the IdP
   * client the facade uses for clients identified by metadata documents (`discovery.cimd_idp_client_id`).
   */
  readonly cimdClient?: { readonly clientId: string; readonly redirectUri: string };
}

/** A request oidc-provider handled, as far as a test needs to know which client asked what. */
export interface DemoIdpRequest {
  readonly path: string;
  readonly clientId?: string;
  readonly redirectUri?: string;
  readonly resource?: string;
}

export interface DemoIdp {
  readonly issuer: string;
  readonly port: number;
  readonly user: { readonly username: string; readonly password: string };
  readonly cliClient: { readonly clientId: string; readonly clientSecret: string };
  /** The initial access token registration requires (give it to the facade). */
  readonly registrationToken: string;
  /** Number of clients registered through DCR so far. */
  registrations(): number;
  /** Number of HTTP requests the IdP has received (tests assert that nothing reached it). */
  requests(): number;
  /** The OAuth requests oidc-provider handled, in order (client, redirect URI, resource). */
  oauthRequests(): readonly DemoIdpRequest[];
  close(): Promise<void>;
}

/**
 * Headers of every page the demo IdP renders itself. `form-action 'self'` keeps credentials from
 * being posted anywhere else; it holds because no form here is answered with a redirect (a
 * browser checks `form-action` against every hop of a redirect chain, and a successful sign-in
 * goes on to the facade and then to the client's own redirect URI): the sign-in POST is answered
 * with a page that continues by an ordinary navigation (continuePage).
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
} as const;

const STYLE =
  '<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.4rem 0}</style>';

function loginPage(uid: string, clientName: string, error?: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sign in - MCP demo IdP</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${STYLE}
</head><body><h1>Sign in</h1><p><b>${esc(clientName)}</b> wants to access your MCP server.</p>
${error ? `<p role="alert" style="color:#b00">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`;
}

/** After a successful sign-in: go on to `next` (same origin) by navigation, not by redirect. */
function continuePage(next: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Signed in - MCP demo IdP</title>
<meta http-equiv="refresh" content="0;url=${esc(next)}">${STYLE}
</head><body><h1>Signed in</h1><p><a href="${esc(next)}">Continue</a></p></body></html>`;
}

function errorPage(title: string, detail: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)} - MCP demo IdP</title>${STYLE}
</head><body><h1>${esc(title)}</h1><p>${esc(detail)}</p>
<p>Go back to your application and connect again.</p></body></html>`;
}

type OidcProviderModule = typeof import('oidc-provider');
let oidcProvider: Promise<OidcProviderModule> | undefined;

/**
 * oidc-provider, loaded when a demo IdP starts (not when the CLI shows its help). On import it
 * warns about Node.js lines older than 22; the demo runs it on Node.js 20 (this project's floor,
 * where the whole suite passes), so that one known line is dropped and nothing else.
 */
function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProvider ??= (async () => {
    const warn = console.warn;
    console.warn = (...a: unknown[]) => {
      if (typeof a[0] === 'string' && a[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
      warn(...a);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return oidcProvider;
}

/**
 * In-memory storage for one demo IdP (oidc-provider's built-in one is shared by every provider in
 * the process and warns at each start). Entries expire like the built-in adapter's.
 */
function memoryAdapter(): new (name: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expires: number }>();
  const get = (key: string) => {
    const e = store.get(key);
    if (!e) return undefined;
    if (e.expires <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return e.payload;
  };
  return class implements Adapter {
    constructor(readonly name: string) {}
    private key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const expires = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      store.set(this.key(id), { payload, expires });
      if (payload.uid)
        store.set(`uid:${this.name}:${payload.uid}`, { payload: { id } as AdapterPayload, expires });
      if (payload.grantId) {
        const k = `grant:${payload.grantId}`;
        const members = (store.get(k)?.payload as unknown as string[] | undefined) ?? [];
        // The index lives as long as its longest-lived member.
        const before = store.get(k)?.expires ?? 0;
        store.set(k, {
          payload: [...members, this.key(id)] as unknown as AdapterPayload,
          expires: Math.max(before, expires),
        });
      }
    }
    async find(id: string) {
      return get(this.key(id));
    }
    async findByUid(uid: string) {
      const ref = get(`uid:${this.name}:${uid}`);
      return ref?.id ? get(this.key(ref.id as string)) : undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const p = get(this.key(id));
      if (p) p.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const k = `grant:${grantId}`;
      for (const member of (store.get(k)?.payload as unknown as string[] | undefined) ?? [])
        store.delete(member);
      store.delete(k);
    }
  };
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Long because most of it is one oidc-provider configuration object and the interaction handler
// that goes with it; both read best next to each other.
export async function startDemoIdp(opts: DemoIdpOptions): Promise<DemoIdp> {
  // Listen first so that `port: 0` yields an issuer with the real port.
  let handle: http.RequestListener = (_req, res) => {
    res.writeHead(503).end();
  };
  const log = createLogger('demo-idp');
  let received = 0;
  const server = http.createServer((req, res) => {
    received++;
    handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9000, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const issuer = opts.issuer ?? `http://localhost:${actualPort}`;
  const user = opts.user ?? { username: 'demo', password: randomBytes(9).toString('base64url') };
  const cliClient = opts.cliClient ?? {
    clientId: 'demo-cli',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const scopes = opts.scopes ?? ['mcp:tools', 'mcp:resources'];
  const registrationToken = opts.registrationToken ?? randomBytes(32).toString('base64url');
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = {
    ...(await jose.exportJWK(privateKey)),
    kid: `demo-${randomBytes(4).toString('hex')}`,
    use: 'sig',
    alg: 'RS256',
  };
  let registered = 0;

  const resourceAllowed = (r: string) =>
    opts.resourcePrefixes.some((p) => r === p || r.startsWith(p.endsWith('/') ? p : `${p}/`));

  const { default: Provider } = await loadOidcProvider();
  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: cliClient.clientId,
        client_secret: cliClient.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: scopes.join(' '),
      },
      ...(opts.facadeClient
        ? [
            {
              client_id: opts.facadeClient.clientId,
              client_secret: opts.facadeClient.clientSecret,
              client_name: 'MCP facade',
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              redirect_uris: [...opts.facadeClient.redirectUris],
              token_endpoint_auth_method: opts.facadeClient.tokenEndpointAuthMethod ?? 'client_secret_basic',
              scope: ['openid', 'offline_access', ...scopes].join(' '),
            },
          ]
        : []),
      ...(opts.cimdClient
        ? [
            {
              client_id: opts.cimdClient.clientId,
              client_name: 'MCP auth facade (client ID metadata documents)',
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              redirect_uris: [opts.cimdClient.redirectUri],
              token_endpoint_auth_method: 'none',
              application_type: 'native',
              scope: ['offline_access', ...scopes].join(' '),
            },
          ]
        : []),
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', ...scopes],
    claims: { openid: ['sub'] },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub }),
    }),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // Registration only with the facade's initial access token: an open registration endpoint
      // would let anyone mint a client_credentials client or register their own redirect URI
      // and skip the facade's consent (red-team finding 1).
      registration: {
        enabled: opts.registration ?? true,
        initialAccessToken: opts.openRegistration ? false : registrationToken,
      },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, resource: string) => {
          if (!resourceAllowed(resource))
            throw new (
              Provider as unknown as { errors: { InvalidTarget: new () => Error } }
            ).errors.InvalidTarget();
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenTTL: opts.accessTokenTtlSeconds ?? 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      ClientCredentials: 3600,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
      RefreshToken: 86400,
      IdToken: 3600,
    },
    // Refresh tokens for code clients that ask for them (MCP clients refresh silently).
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: { grantTypeAllowed(g: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    clientBasedCORS: () => true,
    // oidc-provider's own error pages (e.g. an unregistered redirect_uri): same headers as ours.
    renderError: async (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
      for (const [k, v] of Object.entries(PAGE_HEADERS)) ctx.set(k, v);
      ctx.type = 'html';
      ctx.body = errorPage(out.error ?? 'error', out.error_description ?? '');
    },
  } as unknown as ConstructorParameters<typeof Provider>[1]);
  provider.proxy = true;
  // Default scopes, as most IdPs have them: an authorization request without `scope` (the MCP
  // conformance `authorization-code-grant` sends none) gets the resource's scopes, instead of
  // oidc-provider's access_denied "no scope was granted".
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth' && !ctx.query.scope && ctx.query.resource) {
      ctx.query = { ...ctx.query, scope: scopes.join(' ') };
    }
    await next();
  });
  provider.on('registration_create.success', () => {
    registered++;
  });
  const oauth: DemoIdpRequest[] = [];
  provider.use(async (ctx, next) => {
    await next();
    const o = (ctx as unknown as KoaContextWithOIDC).oidc;
    const p = (o?.params ?? {}) as Record<string, unknown>;
    if (!o?.params) return;
    oauth.push({
      path: ctx.path,
      clientId: o.client?.clientId ?? (p.client_id as string | undefined),
      redirectUri: p.redirect_uri as string | undefined,
      resource: p.resource as string | undefined,
    });
  });

  const callback = provider.callback();

  const finishConsent = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
    if (!grant) throw new Error('grant not found');
    const missing = (prompt.details ?? {}) as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [indicator, s] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, s.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  handle = async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
    if (!m) {
      callback(req, res);
      return;
    }
    for (const [k, v] of Object.entries(PAGE_HEADERS)) res.setHeader(k, v);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== m[1]) throw new Error('interaction mismatch');
      if (details.prompt.name === 'consent') {
        await finishConsent(req, res);
        return;
      }
      const client = await provider.Client.find(details.params.client_id as string);
      const clientName = (client?.clientName as string | undefined) ?? (details.params.client_id as string);
      if (req.method === 'GET' && !m[2]) {
        res.writeHead(200);
        res.end(loginPage(details.uid, clientName));
        return;
      }
      if (req.method === 'POST' && m[2]) {
        const form = await readForm(req);
        if (form.get('username') !== user.username || form.get('password') !== user.password) {
          res.writeHead(401);
          res.end(loginPage(details.uid, clientName, 'Wrong username or password.'));
          return;
        }
        const next = await provider.interactionResult(
          req,
          res,
          { login: { accountId: user.username } },
          { mergeWithLastSubmission: false },
        );
        const to = new URL(next, issuer);
        if (to.origin !== new URL(issuer).origin) throw new Error('interaction result leaves the IdP');
        res.writeHead(200);
        res.end(continuePage(to.href));
        return;
      }
      res.writeHead(405).end();
    } catch (e) {
      log.warn('sign-in interaction failed', { reason: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) {
        res.writeHead(400);
        res.end(errorPage('Sign-in failed', 'This sign-in page has expired or was already used.'));
      }
    }
  };

  return {
    issuer,
    port: actualPort,
    user,
    cliClient,
    registrationToken,
    registrations: () => registered,
    requests: () => received,
    oauthRequests: () => oauth,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
