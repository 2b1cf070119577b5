/**
 * Regression tests for the red team's and the reviewers' findings on the authorization-server
 * facade (issue 9), with the relay on, through one origin in the local runner, in front of the
 * embedded demo IdP whose registration and request counters show what reached it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { MAX_CLIENT_ID_LENGTH } from '../../functions/discovery/client-id.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { freePort } from '../helpers/net.ts';
import { loginAndGetCode } from '../helpers/oauth-client.ts';

let idp: DemoIdp;
let edge: RunningServer;
let origin: string;

beforeAll(async () => {
  const idpPort = await freePort();
  const port = await freePort();
  origin = `http://localhost:${port}`;
  idp = await startDemoIdp({ port: idpPort, resourcePrefixes: [origin] });
  edge = await startLocalSingleOrigin(
    parseConfig({
      provider: 'embedded',
      embedded: { port: idpPort, registration_token: idp.registrationToken },
      base_url: 'http://localhost:1',
      listen_port: port,
      discovery: {
        base_url: origin,
        signing_key: randomBytes(32).toString('base64url'),
        registration_rate_per_minute: 0, // this file registers far more than a caller would
        token_failures_per_minute: 0, // and sends more bad token requests
      },
    }),
    { port },
  );
});

afterAll(async () => {
  await edge?.close();
  await idp?.close();
});

const register = (body: Record<string, unknown>) =>
  fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...body }),
  });

const authorizeUrl = (clientId: string, redirectUri: string, over: Record<string, string> = {}) =>
  `${origin}/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    code_challenge_method: 'S256',
    ...over,
  })}`;

describe('finding 10: every client id the facade issues can be used to sign in', () => {
  const longUri = (i: number, length: number) => {
    const base = `http://127.0.0.1:${10000 + i}/cb/`;
    return base + 'p'.repeat(Math.max(0, length - base.length));
  };
  for (const count of [1, 2, 3, 5, 10]) {
    for (const length of [40, 300, 1000]) {
      it(`${count} redirect URI(s) of ${length} characters and a 200-character name`, async () => {
        const uris = Array.from({ length: count }, (_, i) => longUri(i, length));
        const before = idp.registrations();
        const res = await register({ redirect_uris: uris, client_name: 'N'.repeat(200) });
        const body = (await res.json()) as { client_id?: string; error?: string };
        if (res.status === 201) {
          expect(body.client_id!.length).toBeLessThanOrEqual(MAX_CLIENT_ID_LENGTH);
          expect(idp.registrations()).toBe(before + 1);
          // Usable: /authorize accepts it for each registered URI (the consent page).
          for (const uri of uris) {
            const page = await fetch(authorizeUrl(body.client_id!, uri));
            expect(page.status, `${count}×${length}`).toBe(200);
            await page.body?.cancel();
          }
        } else {
          // Refused before any IdP call, with a clear error: no orphaned IdP client.
          expect(res.status).toBe(400);
          expect(body.error).toBe('invalid_redirect_uri');
          expect(idp.registrations()).toBe(before);
        }
      });
    }
  }
});

describe('review: what the consent and error pages may show', () => {
  it.each([
    ['a right-to-left override', 'Safe\u202Egnp.exe'],
    ['a zero-width space', 'Claude\u200BDesktop'],
    ['a C1 control', 'name\u0085x'],
    ['a BOM', '\uFEFFApp'],
  ])('a client_name with %s is refused at registration, before the IdP', async (_what, name) => {
    const before = idp.registrations();
    const res = await register({ redirect_uris: ['http://127.0.0.1:5000/cb'], client_name: name });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client_metadata');
    expect(idp.registrations()).toBe(before);
  });

  it('the name is shown as the client’s claim, isolated, not as a fact', async () => {
    const res = await register({
      redirect_uris: ['http://127.0.0.1:5000/cb'],
      client_name: 'Claude Desktop (verified)',
    });
    const { client_id } = (await res.json()) as { client_id: string };
    const html = await (await fetch(authorizeUrl(client_id, 'http://127.0.0.1:5000/cb'))).text();
    expect(html).toContain('It calls itself “<bdi>Claude Desktop (verified)</bdi>”.');
    expect(html).not.toContain('<p class="where">Claude Desktop');
  });

  it('a repeated parameter is named in the log only, never on the page', async () => {
    const words = 'Your session has expired. Sign in again at https://evil.example/login';
    const q = `${encodeURIComponent(words)}=1&${encodeURIComponent(words)}=2`;
    const res = await fetch(`${origin}/authorize?${q}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('A parameter is repeated.');
    expect(html).not.toContain('evil.example');
  });
});

describe("finding 1: the demo IdP's registration endpoint takes registrations from the facade only", () => {
  const reg = (headers: Record<string, string>) =>
    fetch(`${idp.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });

  it('anonymous, or with a wrong token: 401, and no client is created', async () => {
    const before = idp.registrations();
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const res = await reg(headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
    }
    expect(idp.registrations()).toBe(before);
  });

  it('an attacker’s https redirect URI cannot be registered at the IdP either', async () => {
    const before = idp.registrations();
    const res = await fetch(`${idp.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://evil.example/cb'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(res.status).toBe(401);
    expect(idp.registrations()).toBe(before);
  });

  it('the facade, which holds the token, registers clients as before', async () => {
    const before = idp.registrations();
    const res = await register({ redirect_uris: ['http://127.0.0.1:5000/cb'] });
    expect(res.status).toBe(201);
    expect(idp.registrations()).toBe(before + 1);
  });
});

describe('finding 9: the registration response describes the client as registered', () => {
  it('redirect_uris are the client’s own, not the facade’s callback', async () => {
    const uris = ['http://127.0.0.1:5000/cb', 'http://localhost:5001/oauth/callback'];
    const res = await register({ redirect_uris: uris, client_name: 'metadata check' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { redirect_uris: string[]; client_name: string };
    expect(body.redirect_uris).toEqual(uris);
    expect(body.client_name).toBe('metadata check');
    expect(JSON.stringify(body)).not.toContain(`${origin}/callback`);
  });
});

describe('finding 3: a consent form the facade did not mint for this browser and request is refused', () => {
  async function genuine() {
    const res = await register({ redirect_uris: ['http://127.0.0.1:5000/cb'] });
    const { client_id } = (await res.json()) as { client_id: string };
    const url = authorizeUrl(client_id, 'http://127.0.0.1:5000/cb', { state: 's1' });
    const page = await fetch(url);
    const html = await page.text();
    const cookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
    const field = (name: string) =>
      /<input type="hidden" name="([^"]+)" value="([^"]*)">/g
        .exec(html.slice(html.indexOf(`name="${name}"`) - 30))?.[2]
        ?.replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"') ?? '';
    return { cookie, csrf: field('csrf'), request: field('request') };
  }
  const post = (cookie: string, form: Record<string, string>, originHeader: string = origin) =>
    fetch(`${origin}/authorize/consent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: originHeader },
      body: new URLSearchParams(form),
    });

  it('the genuine form is accepted (control)', async () => {
    const g = await genuine();
    const res = await post(g.cookie, { csrf: g.csrf, request: g.request, decision: 'allow' });
    expect(res.status).toBe(302);
  });

  it('a planted cookie with the same value in the form (double submit), from Origin: null', async () => {
    const g = await genuine();
    const before = idp.requests();
    const planted = randomBytes(32).toString('base64url');
    for (const o of ['null', origin]) {
      const res = await post(
        `__Host-mcp-consent=${planted}`,
        { csrf: planted, request: g.request, decision: 'allow' },
        o,
      );
      expect(res.status, o).toBe(403);
      expect(res.headers.get('location')).toBeNull();
    }
    expect(idp.requests()).toBe(before);
  });

  it('a genuine token with another browser’s cookie, or for another request', async () => {
    const a = await genuine();
    const b = await genuine();
    expect((await post(b.cookie, { csrf: a.csrf, request: a.request, decision: 'allow' })).status).toBe(403);
    expect((await post(a.cookie, { csrf: a.csrf, request: b.request, decision: 'allow' })).status).toBe(403);
  });
});

describe('finding 13: registration flooding', () => {
  it('more than the per-minute limit from one address: 429 with Retry-After, before any IdP call', async () => {
    const port = await freePort();
    const limited = await startLocalSingleOrigin(
      parseConfig({
        provider: 'embedded',
        embedded: { port: idp.port, registration_token: idp.registrationToken },
        base_url: 'http://localhost:1',
        listen_port: port,
        discovery: { base_url: `http://localhost:${port}`, registration_rate_per_minute: 3 },
      }),
      { port },
    );
    try {
      const before = idp.registrations();
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`http://localhost:${port}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            redirect_uris: ['http://127.0.0.1:5000/cb'],
            token_endpoint_auth_method: 'none',
          }),
        });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
        } else await res.body?.cancel();
      }
      expect(statuses).toEqual([201, 201, 201, 429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      expect(idp.registrations()).toBe(before + 3);
    } finally {
      await limited.close();
    }
  });

  it('the limiter forgets a minute later and keeps its memory bounded', async () => {
    const { createRateLimiter } = await import('../../functions/discovery/throttle.ts');
    const l = createRateLimiter(2);
    expect([l.take('a', 0), l.take('a', 1), l.take('a', 2) > 0]).toEqual([0, 0, true]);
    expect(l.take('a', 60_001)).toBe(0);
    expect(createRateLimiter(0).take('a')).toBe(0); // 0 = no limit
    for (let i = 0; i < 20_000; i++) l.take(`k${i}`, 70_000);
    expect(l.take('k19999', 70_001)).toBe(0);
  });
});

/** PKCE pair (RFC 7636 S256). */
function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A registered public client, a user's sign-in through consent, and its (sealed) code. */
async function signedInCode(at: string, redirectUris = ['http://127.0.0.1:5000/cb']) {
  const redirectUri = redirectUris[0]!;
  const res = await fetch(`${at}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', redirect_uris: redirectUris }),
  });
  const { client_id } = (await res.json()) as { client_id: string };
  const { verifier, challenge } = pkce();
  const url = new URL(`${at}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'openid',
  }).toString();
  const { code } = await loginAndGetCode(url, redirectUri, idp.user);
  return { clientId: client_id, code, verifier, redirectUri };
}

/** The sealed value with the first character of its MAC changed. */
function altered(sealed: string): string {
  const i = sealed.indexOf('.') + 1;
  return `${sealed.slice(0, i)}${sealed[i] === 'A' ? 'B' : 'A'}${sealed.slice(i + 1)}`;
}

const redeem = (at: string, form: Record<string, string>) =>
  fetch(`${at}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', ...form }),
  });

describe('finding 13: junk codes at /token are refused without an IdP call (relay on)', () => {
  it('codes the facade did not relay, relayed to another client or redirect URI, or used twice', async () => {
    const a = await signedInCode(origin, ['http://127.0.0.1:5000/cb', 'http://127.0.0.1:5000/other']);
    const b = await signedInCode(origin, ['http://127.0.0.1:5001/cb']);
    const base = { client_id: a.clientId, redirect_uri: a.redirectUri, code_verifier: a.verifier };
    const before = idp.requests();
    const refused: [string, Record<string, string>][] = [
      ['junk', { ...base, code: 'junk' }],
      ['an IdP code without the facade seal', { ...base, code: randomBytes(32).toString('base64url') }],
      ['another client’s code', { ...base, code: b.code }],
      [
        'its other registered redirect URI',
        { ...base, redirect_uri: 'http://127.0.0.1:5000/other', code: a.code },
      ],
      ['the seal altered', { ...base, code: altered(a.code) }],
    ];
    for (const [what, form] of refused) {
      const res = await redeem(origin, form);
      expect(res.status, what).toBe(400);
      expect(((await res.json()) as { error: string }).error, what).toBe('invalid_grant');
    }
    expect(idp.requests()).toBe(before);
    // The genuine code works once; the second time it is refused here, not at the IdP.
    const ok = await redeem(origin, { ...base, code: a.code });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { access_token?: string }).access_token).toBeTruthy();
    const afterOk = idp.requests();
    const again = await redeem(origin, { ...base, code: a.code });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
    expect(idp.requests()).toBe(afterOk);
  });
});

describe('finding 13: failed token requests are limited per source address', () => {
  async function limitedFacade(signingKey?: string) {
    const port = await freePort();
    const at = `http://localhost:${port}`;
    const server = await startLocalSingleOrigin(
      parseConfig({
        provider: 'embedded',
        embedded: { port: idp.port, registration_token: idp.registrationToken },
        base_url: 'http://localhost:1',
        listen_port: port,
        discovery: {
          base_url: at,
          token_failures_per_minute: 3,
          ...(signingKey ? { signing_key: signingKey } : {}),
        },
      }),
      { port },
    );
    return { at, server };
  }

  async function statuses(at: string, form: Record<string, string>, n: number) {
    const out: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < n; i++) {
      const res = await redeem(at, form);
      out.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.body?.cancel();
    }
    return { out, retryAfter };
  }

  it('without the relay each junk code costs an IdP call, up to the limit; then 429 with Retry-After', async () => {
    const { at, server } = await limitedFacade();
    try {
      const res = await fetch(`${at}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token_endpoint_auth_method: 'none',
          redirect_uris: ['http://127.0.0.1:5000/cb'],
        }),
      });
      const { client_id } = (await res.json()) as { client_id: string };
      const before = idp.requests();
      const form = {
        client_id,
        code: 'junk',
        redirect_uri: 'http://127.0.0.1:5000/cb',
        code_verifier: 'v'.repeat(43),
      };
      const { out, retryAfter } = await statuses(at, form, 6);
      expect(out).toEqual([400, 400, 400, 429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      // Three token requests reached the IdP (each with its discovery fetch at most once).
      expect(idp.requests() - before).toBeLessThanOrEqual(4);
      expect(idp.requests() - before).toBeGreaterThanOrEqual(3);
    } finally {
      await server.close();
    }
  });

  it('with the relay, junk never reaches the IdP and a genuine exchange does not count', async () => {
    const { at, server } = await limitedFacade(randomBytes(32).toString('base64url'));
    try {
      // Successes are not counted: four good exchanges in a row under a limit of three failures.
      for (let i = 0; i < 4; i++) {
        const g = await signedInCode(at);
        const res = await redeem(at, {
          client_id: g.clientId,
          code: g.code,
          redirect_uri: g.redirectUri,
          code_verifier: g.verifier,
        });
        expect(res.status).toBe(200);
        await res.body?.cancel();
      }
      const g = await signedInCode(at);
      const before = idp.requests();
      const form = {
        client_id: g.clientId,
        code: 'junk',
        redirect_uri: g.redirectUri,
        code_verifier: g.verifier,
      };
      const { out } = await statuses(at, form, 5);
      expect(out).toEqual([400, 400, 400, 429, 429]);
      // Once limited, even a genuine code from this address waits.
      const res = await redeem(at, {
        client_id: g.clientId,
        code: g.code,
        redirect_uri: g.redirectUri,
        code_verifier: g.verifier,
      });
      expect(res.status).toBe(429);
      expect(idp.requests()).toBe(before);
    } finally {
      await server.close();
    }
  });
});

describe('finding 4: consent forms and relay states are single-use', () => {
  it('the same genuine consent form and cookie, submitted twice on one instance: the second is refused', async () => {
    const res = await register({ redirect_uris: ['http://127.0.0.1:5000/cb'] });
    const { client_id } = (await res.json()) as { client_id: string };
    const page = await fetch(authorizeUrl(client_id, 'http://127.0.0.1:5000/cb'));
    const html = await page.text();
    const cookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(m[1]!, m[2]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
    }
    form.set('decision', 'allow');
    const post = () =>
      fetch(`${origin}/authorize/consent`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin },
        body: form,
      });
    expect((await post()).status).toBe(302);
    const second = await post();
    expect(second.status).toBe(403);
    expect(second.headers.get('location')).toBeNull();
  });

  it('the replay memory is bounded and forgets what has expired', async () => {
    const { createReplayGuard } = await import('../../functions/discovery/throttle.ts');
    const g = createReplayGuard(3);
    expect([g.firstUse('a', 100, 0), g.firstUse('a', 100, 1)]).toEqual([true, false]);
    expect(g.firstUse('a', 200, 100)).toBe(true); // expired: a new value with that name
    for (const k of ['b', 'c', 'd']) g.firstUse(k, 1000, 101);
    expect(g.firstUse('a', 1000, 102)).toBe(true); // forgotten: the oldest of more than 3
    expect(g.firstUse('d', 1000, 102)).toBe(false);
  });
});

describe('client_credentials at the facade’s token endpoint (issue 10)', () => {
  const machine = (auth: string | null, form: Record<string, string>) =>
    fetch(`${origin}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth ? { authorization: auth } : {}),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
    });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  it('is advertised, and a machine client registered at the IdP gets a token for the resource', async () => {
    const as = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as {
      grant_types_supported: string[];
    };
    expect(as.grant_types_supported).toContain('client_credentials');
    const { clientId, clientSecret } = idp.cliClient;
    const res = await machine(basic(clientId, clientSecret), {
      scope: 'mcp:tools',
      resource: `${origin}/mcp`,
    });
    const body = (await res.json()) as { access_token?: string; token_type?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.token_type).toMatch(/^bearer$/i);
    const claims = JSON.parse(Buffer.from(body.access_token!.split('.')[1]!, 'base64url').toString());
    expect(claims.aud).toBe(`${origin}/mcp`);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('a wrong secret is the IdP’s 401; no credentials, or a client registered through the facade, are refused here', async () => {
    const wrong = await machine(basic(idp.cliClient.clientId, 'wrong'), { scope: 'mcp:tools' });
    expect(wrong.status).toBe(401);
    const reg = (await (
      await register({
        redirect_uris: ['http://127.0.0.1:5000/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      })
    ).json()) as { client_id: string; client_secret: string };
    const before = idp.requests();
    const viaFacade = await machine(basic(reg.client_id, reg.client_secret), {});
    expect(viaFacade.status).toBe(400);
    expect(((await viaFacade.json()) as { error: string }).error).toBe('unauthorized_client');
    const inForm = await machine(null, { client_id: reg.client_id, client_secret: reg.client_secret });
    expect(((await inForm.json()) as { error: string }).error).toBe('unauthorized_client');
    const anonymous = await machine(null, { client_id: idp.cliClient.clientId });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toBe('invalid_client');
    expect(idp.requests()).toBe(before);
  });
});
