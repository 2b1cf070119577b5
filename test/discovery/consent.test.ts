/**
 * The facade's consent step against the discovery function in the local runner (embedded
 * oidc-provider behind it): nothing goes to the IdP before the user has seen where the code will
 * be delivered and approved; forged, cross-site, tampered and denied submissions go nowhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalDiscovery } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { answerConsent, consentForm } from '../helpers/consent.ts';
import { freePort } from '../helpers/net.ts';

let idp: DemoIdp;
let disc: RunningServer;
let noConsent: RunningServer;

beforeAll(async () => {
  const idpPort = await freePort();
  idp = await startDemoIdp({ port: idpPort, resourcePrefixes: ['http://localhost:8080'] });
  // attacker.example is allowed on purpose: the consent page is the defence under test here.
  const discovery = { allowed_redirect_hosts: ['attacker.example'] };
  const raw = {
    provider: 'embedded',
    embedded: { port: idpPort, registration_token: idp.registrationToken },
    base_url: 'http://localhost:1',
  };
  disc = await startLocalDiscovery(parseConfig({ ...raw, discovery }));
  noConsent = await startLocalDiscovery(parseConfig({ ...raw, discovery: { ...discovery, consent: 'off' } }));
});

afterAll(async () => {
  await disc?.close();
  await noConsent?.close();
  await idp?.close();
});

const query = (over: Record<string, string> = {}) =>
  new URLSearchParams({
    response_type: 'code',
    client_id: 'client-123',
    redirect_uri: 'https://attacker.example/cb',
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    code_challenge_method: 'S256',
    state: 's1',
    scope: 'mcp:tools',
    ...over,
  });

const open = (q = query()) => fetch(`${disc.url}/authorize?${q}`, { redirect: 'manual' });

describe('GET /authorize shows a consent page instead of redirecting', () => {
  it('names where the code will go, cannot be framed, and sets a __Host- nonce cookie', async () => {
    const res = await open();
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // form-action would also apply to the redirects after the POST (IdP login, client callback).
    expect(res.headers.get('content-security-policy')).not.toContain('form-action');
    // no-referrer would make browsers send `Origin: null` on the form POST.
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(
      /^__Host-mcp-consent=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=600$/,
    );
    const html = await res.text();
    expect(html).toContain('<p class="where">attacker.example</p>');
    expect(html).toContain('client-123');
    const form = consentForm(html)!;
    expect(form.action).toBe('/authorize/consent');
    expect(form.fields.get('csrf')).toBe(cookie!.split(';')[0]!.split('=')[1]);
  });

  it('describes a loopback redirect as an application on this computer, and escapes everything', async () => {
    const html = await (
      await open(query({ redirect_uri: 'http://127.0.0.1:5000/cb', state: '"><script>x</script>' }))
    ).text();
    expect(html).toContain('an application on this computer (http://127.0.0.1:5000)');
    expect(html).not.toContain('<script>x');
  });

  it('approval sends the validated request on to the IdP and clears the cookie', async () => {
    const res = await answerConsent(await open(), `${disc.url}/authorize`);
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.origin).toBe(idp.issuer);
    expect(loc.searchParams.get('redirect_uri')).toBe('https://attacker.example/cb');
    expect(loc.searchParams.get('state')).toBe('s1');
    expect(res.headers.getSetCookie()[0]).toMatch(/^__Host-mcp-consent=; .*Max-Age=0$/);
  });

  it('denial shows a page and redirects nowhere', async () => {
    const res = await answerConsent(await open(), `${disc.url}/authorize`, 'deny');
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('Access denied');
  });
});

describe('POST /authorize/consent refuses forged submissions', () => {
  async function submit(mutate: (f: URLSearchParams, h: Record<string, string>) => void) {
    const page = await open();
    const form = consentForm(await page.text())!;
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: page.headers.getSetCookie()[0]!.split(';')[0]!,
      origin: disc.url,
    };
    form.fields.set('decision', 'allow');
    mutate(form.fields, headers);
    return fetch(`${disc.url}${form.action}`, {
      method: 'POST',
      redirect: 'manual',
      headers,
      body: form.fields.toString(),
    });
  }

  const cases: [string, (f: URLSearchParams, h: Record<string, string>) => void, number][] = [
    ['without the cookie (cross-site: SameSite=Strict keeps it home)', (_f, h) => delete h.cookie, 403],
    ['with another nonce in the form', (f) => f.set('csrf', randomBytes(32).toString('base64url')), 403],
    ['sent cross-site (Sec-Fetch-Site)', (_f, h) => (h['sec-fetch-site'] = 'cross-site'), 403],
    ['from a foreign Origin', (_f, h) => (h.origin = 'https://attacker.example'), 403],
    ['without a decision', (f) => f.delete('decision'), 403],
    [
      'with a tampered request (redirect to javascript:)',
      (f) => {
        const q = new URLSearchParams(f.get('request')!);
        q.set('redirect_uri', 'javascript:alert(1)');
        f.set('request', q.toString());
      },
      400,
    ],
    [
      'with PKCE removed from the request',
      (f) => {
        const q = new URLSearchParams(f.get('request')!);
        q.delete('code_challenge');
        f.set('request', q.toString());
      },
      400,
    ],
    ['as JSON', (_f, h) => (h['content-type'] = 'application/json'), 400],
  ];
  for (const [name, mutate, status] of cases) {
    it(`${name} → ${status}, no redirect`, async () => {
      const res = await submit(mutate);
      expect(res.status).toBe(status);
      expect(res.headers.get('location')).toBeNull();
    });
  }

  it('refuses Origin: null (sandboxed frames, data: URLs; the page itself sends its origin)', async () => {
    const res = await submit((_f, h) => {
      h.origin = 'null';
      h['sec-fetch-site'] = 'same-origin';
    });
    expect(res.status).toBe(403);
  });

  it('GET on the consent path is not allowed', async () => {
    expect((await fetch(`${disc.url}/authorize/consent`)).status).toBe(405);
  });
});

describe('parameters that never reach the IdP', () => {
  it('drops request / request_uri and unknown parameters; refuses response_mode other than query', async () => {
    const res = await answerConsent(
      await open(query({ request_uri: 'https://attacker.example/req', request: 'eyJ.x.y', foo: 'bar' })),
      `${disc.url}/authorize`,
    );
    const loc = new URL(res.headers.get('location')!);
    expect(loc.searchParams.has('request_uri')).toBe(false);
    expect(loc.searchParams.has('request')).toBe(false);
    expect(loc.searchParams.has('foo')).toBe(false);
    const frag = await open(query({ response_mode: 'fragment' }));
    expect(frag.status).toBe(400);
    expect((await frag.json()).error_description).toBe('only response_mode=query is supported');
  });
});

it('with discovery.consent: off, /authorize redirects straight to the IdP', async () => {
  const res = await fetch(`${noConsent.url}/authorize?${query()}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(new URL(res.headers.get('location')!).origin).toBe(idp.issuer);
});
