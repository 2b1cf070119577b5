/**
 * The embedded demo identity provider, built on `oidc-provider` (a certified OpenID provider):
 * a login page with one demo user, open dynamic client registration, PKCE S256 required for
 * every authorization-code client, RFC 8707 resource indicators issuing JWT access tokens whose
 * `aud` is the MCP resource URL, and a confidential `client_credentials` client for scripts.
 * Local use only: keys and clients live in memory and are new at every start.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

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
}

export interface DemoIdp {
  readonly issuer: string;
  readonly port: number;
  readonly user: { readonly username: string; readonly password: string };
  readonly cliClient: { readonly clientId: string; readonly clientSecret: string };
  /** Number of clients registered through DCR so far. */
  registrations(): number;
  close(): Promise<void>;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(uid: string, clientName: string, error?: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sign in - MCP demo IdP</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}</style>
</head><body><h1>Sign in</h1><p><b>${esc(clientName)}</b> wants to access your MCP server.</p>
${error ? `<p role="alert" style="color:#b00">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label>Username <input name="username" required autofocus></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in and allow</button></form></body></html>`;
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

export async function startDemoIdp(opts: DemoIdpOptions): Promise<DemoIdp> {
  // Listen first so that `port: 0` yields an issuer with the real port.
  let handle: http.RequestListener = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = http.createServer((req, res) => handle(req, res));
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

  const provider = new Provider(issuer, {
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
      registration: { enabled: true },
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
  } as unknown as ConstructorParameters<typeof Provider>[1]);
  provider.proxy = true;
  provider.on('registration_create.success', () => {
    registered++;
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
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    );
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
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(loginPage(details.uid, clientName));
        return;
      }
      if (req.method === 'POST' && m[2]) {
        const form = await readForm(req);
        if (form.get('username') !== user.username || form.get('password') !== user.password) {
          res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
          res.end(loginPage(details.uid, clientName, 'Wrong username or password.'));
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: user.username } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      res.writeHead(405).end();
    } catch (e) {
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };

  return {
    issuer,
    port: actualPort,
    user,
    cliClient,
    registrations: () => registered,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
