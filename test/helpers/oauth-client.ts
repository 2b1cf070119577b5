/**
 * An OAuthClientProvider for the real MCP SDK client, plus a "browser" that walks the demo
 * IdP's login flow (redirects, cookies, login form) the way a user would.
 */

import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { consentForm } from './consent.ts';

export class MemoryOAuthProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier?: string;
  authorizationUrl?: URL;

  constructor(
    readonly redirect = 'http://127.0.0.1:53682/callback',
    readonly authMethod: 'none' | 'client_secret_basic' | 'client_secret_post' = 'none',
  ) {}

  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'e2e test client',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: this.authMethod,
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
}

/**
 * Follow the authorization URL like a browser: keep cookies, submit the login form with the
 * given credentials, and return the `code` delivered to the redirect URI.
 */
export async function loginAndGetCode(
  authorizationUrl: URL,
  redirectUri: string,
  user: { username: string; password: string },
) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  };
  let url = authorizationUrl.toString();
  let init: RequestInit = { redirect: 'manual' };
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(redirectUri)) {
      const u = new URL(url);
      const code = u.searchParams.get('code');
      if (!code) throw new Error(`authorization failed: ${u.search}`);
      return { code, state: u.searchParams.get('state'), iss: u.searchParams.get('iss') };
    }
    const res = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() },
    });
    keep(res);
    init = { redirect: 'manual' };
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).toString();
      continue;
    }
    const html = await res.text();
    // The IdP continues after sign-in by navigation (a meta refresh), not by redirect.
    const refresh = /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(html)?.[1];
    if (res.status === 200 && refresh) {
      url = new URL(refresh.replace(/&amp;/g, '&'), url).toString();
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action)
      throw new Error(`unexpected page ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const consent = consentForm(html);
    const from = new URL(url).origin;
    url = new URL(action.replace(/&amp;/g, '&'), url).toString();
    if (consent?.fields.has('csrf')) {
      // The facade's consent page: the user approves.
      consent.fields.set('decision', 'allow');
      init = {
        redirect: 'manual',
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: from },
        body: consent.fields.toString(),
      };
      continue;
    }
    init = {
      redirect: 'manual',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
    };
  }
  throw new Error('too many redirects');
}

/** A script's token from the demo IdP (`client_credentials`, RFC 8707 `resource`); fails unless 200. */
export async function clientCredentialsToken(
  issuer: string,
  client: { readonly clientId: string; readonly clientSecret: string },
  resource: string,
): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'mcp:tools' }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token)
    throw new Error(`client_credentials for ${resource}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
