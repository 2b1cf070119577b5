/**
 * The consent step (functions/discovery/consent.ts), without a server: how the page names the
 * client and where the code goes, the cookie it sets, and every reason a consent POST is refused
 * (origin, Sec-Fetch-Site, nonce, sealed token: issuer, expiry, browser, request; decision).
 */
import { describe, expect, it } from 'vitest';
import {
  CLEAR_CONSENT_COOKIE,
  CONSENT_COOKIE,
  type ConsentView,
  consentPage,
  consentToken,
  deniedPage,
  describeRedirect,
  newNonce,
  readConsent,
} from '../../functions/discovery/consent.ts';
import { OAuthError } from '../../functions/shared/errors.ts';
import { digest, seal, unseal } from '../../functions/shared/seal.ts';

const key = Buffer.alloc(32, 5);
const NOW = 1_800_000_000_000;
const SELF = 'https://f.example';

describe('describeRedirect: where the code goes, in words a user can judge', () => {
  it.each<[string, string]>([
    ['http://127.0.0.1:5000/cb', 'an application on this computer (http://127.0.0.1:5000)'],
    ['http://localhost:3000/x?y=1', 'an application on this computer (http://localhost:3000)'],
    ['http://[::1]:8/cb', 'an application on this computer (http://[::1]:8)'],
    ['https://app.example/cb', 'app.example'],
    ['https://app.example:8443/cb', 'app.example:8443'],
    // https on loopback is not "this computer" by our rule: the host is shown as it is.
    ['https://localhost:8443/cb', 'localhost:8443'],
    ['http://app.example/cb', 'the application registered for "http:" links'],
    ['cursor://anysphere.cursor-retrieval/cb', 'the application registered for "cursor:" links'],
  ])('%s → %s', (uri, want) => {
    expect(describeRedirect(uri)).toBe(want);
  });
});

describe('newNonce and consentToken', () => {
  it('makes a fresh 32-byte base64url nonce each time', () => {
    const a = newNonce();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newNonce()).not.toBe(a);
  });

  it('is the nonce itself without a key, else a sealed {nonce hash, request hash, expiry}', () => {
    expect(consentToken(undefined, 'n1', 'q')).toBe('n1');
    const t = consentToken(key, 'n1', 'client_id=c', NOW + 999);
    expect(unseal(key, 'consent', t, 4096)).toEqual({
      n: digest('n1'),
      q: digest('client_id=c'),
      exp: NOW / 1000 + 600,
      t: 'consent',
    });
  });
});

describe('consentPage', () => {
  const view: ConsentView = {
    action: '/authorize/consent',
    clientId: 'mcp-abc',
    clientName: 'Cursor <b>',
    redirectUri: 'https://app.example/cb?a=1&b=2',
    scope: 'mcp:tools a<b',
    resources: ['https://f.example/mcp', 'https://f.example/sse'],
    query: 'client_id=mcp-abc&x="1"',
  };

  it('names the client as its own claim, where the code goes, the permissions and the resources', async () => {
    const res = consentPage(view, 'N'.repeat(43), 'TOKEN');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('set-cookie')).toBe(
      `__Host-mcp-consent=${'N'.repeat(43)}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=600`,
    );
    const html = await res.text();
    for (const part of [
      '<title>Allow access?</title>',
      '<h1>Allow access to this MCP server?</h1>',
      '<p>It calls itself “<bdi>Cursor &lt;b&gt;</bdi>”.<br><small>The name is the one the application gave itself when it registered; it is not verified.</small></p>',
      '<p>After you sign in, access will be handed to:</p><p class="where">app.example</p>',
      '<p>Permissions: <code>mcp:tools</code> <code>a&lt;b</code></p>',
      '<p>Resource: <code>https://f.example/mcp</code>, <code>https://f.example/sse</code></p>',
      '<small>Redirect address: <code>https://app.example/cb?a=1&amp;b=2</code><br>Client id: <code>mcp-abc</code></small>',
      'Only continue if you started this from an application you trust',
      '<form method="post" action="/authorize/consent">',
      '<input type="hidden" name="request" value="client_id=mcp-abc&amp;x=&quot;1&quot;">',
      '<input type="hidden" name="csrf" value="TOKEN">',
      '<button type="submit" name="decision" value="allow">Allow</button>',
      '<button type="submit" name="decision" value="deny">Deny</button>',
    ])
      expect(html).toContain(part);
  });

  it('says so when the client gave no name, and shows no empty permission or resource lines', async () => {
    const html = await consentPage(
      {
        ...view,
        clientName: undefined,
        scope: undefined,
        resources: [],
        redirectUri: 'http://127.0.0.1:9/cb',
      },
      'n',
    ).text();
    expect(html).toContain('<p>It did not register a name.</p>');
    expect(html).toContain('<p class="where">an application on this computer (http://127.0.0.1:9)</p>');
    expect(html).toContain('<input type="hidden" name="csrf" value="n">'); // the token defaults to the nonce
    expect(html).toContain('(http://127.0.0.1:9)</p>\n\n<p><small>Redirect address:');
    expect(html).not.toContain('Permissions:');
    expect(html).not.toContain('Resource:');
    expect(html).not.toContain('calls itself');
  });

  it('denies with a page that clears the cookie', async () => {
    expect(CONSENT_COOKIE).toBe('__Host-mcp-consent');
    expect(CLEAR_CONSENT_COOKIE).toBe(
      '__Host-mcp-consent=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0',
    );
    const res = deniedPage();
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBe(CLEAR_CONSENT_COOKIE);
    const html = await res.text();
    expect(html).toContain('<title>Access denied</title>');
    expect(html).toContain('<h1>Access denied</h1><p>You did not allow the application.');
  });
});

describe('readConsent', () => {
  const nonce = newNonce();
  const query = 'client_id=mcp-abc&redirect_uri=x';
  const cookie = `a=1; ${CONSENT_COOKIE}=${nonce}`;
  const form = (o: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    const all = { request: query, csrf: consentToken(key, nonce, query, NOW), decision: 'allow', ...o };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) p.set(k, v);
    return p;
  };
  interface Post {
    form?: Record<string, string | undefined>;
    cookie?: string | null;
    origin?: string | null;
    site?: string | null;
    key?: Uint8Array | undefined;
    now?: number;
  }
  /** The decision, or the internal reason of the 403. */
  const post = (p: Post = {}) => {
    try {
      return readConsent(
        form(p.form ?? {}),
        p.cookie === undefined ? cookie : p.cookie,
        p.origin === undefined ? SELF : p.origin,
        SELF,
        p.site === undefined ? 'same-origin' : p.site,
        'key' in p ? p.key : key,
        p.now ?? NOW,
      );
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      expect({ status: e.status, code: e.code, description: e.description }).toEqual({
        status: 403,
        code: 'access_denied',
        description: 'the consent form is invalid or has expired; start again',
      });
      return e.reason;
    }
  };
  const exp = NOW + 600_000;
  /** A sealed token is named (its digest) with its expiry, for the single-use check. */
  const SEALED = { id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAtMs: exp };

  it.each<[string, Post, unknown]>([
    ['an allowed consent', {}, { allow: true, query, sealed: SEALED }],
    ['a denied consent', { form: { decision: 'deny' } }, { allow: false, query, sealed: SEALED }],
    ['no Origin header (older browsers)', { origin: null }, { allow: true, query, sealed: SEALED }],
    ['no Sec-Fetch-Site', { site: null }, { allow: true, query, sealed: SEALED }],
    ['Sec-Fetch-Site same-site', { site: 'same-site' }, { allow: true, query, sealed: SEALED }],
    ['at the second the token expires', { now: exp }, { allow: true, query, sealed: SEALED }],
    ['another origin', { origin: 'https://evil.example' }, 'consent posted from origin https://evil.example'],
    ['Origin: null', { origin: 'null' }, 'consent posted from origin null'],
    ['our origin with another port', { origin: `${SELF}:444` }, `consent posted from origin ${SELF}:444`],
    ['cross-site', { site: 'cross-site' }, 'consent posted cross-site (Sec-Fetch-Site)'],
    ['a request over 16 KiB', { form: { request: 'x'.repeat(16 * 1024 + 1) } }, 'request too large'],
    ['no cookie', { cookie: null }, 'consent nonce missing'],
    ['an empty cookie', { cookie: `${CONSENT_COOKIE}=` }, 'consent nonce missing'],
    ['a cookie that is no nonce', { cookie: `${CONSENT_COOKIE}=${nonce.slice(1)}` }, 'consent nonce missing'],
    ['a cookie with junk after a nonce', { cookie: `${CONSENT_COOKIE}=${nonce}x` }, 'consent nonce missing'],
    ['a cookie with junk before a nonce', { cookie: `${CONSENT_COOKIE}=x${nonce}` }, 'consent nonce missing'],
    ['no token', { form: { csrf: undefined } }, 'consent nonce missing'],
    [
      'the nonce as the token (double submit) with a key',
      { form: { csrf: nonce } },
      'consent token not minted by this facade',
    ],
    [
      'a token of another facade',
      { form: { csrf: consentToken(Buffer.alloc(32, 6), nonce, query, NOW) } },
      'consent token not minted by this facade',
    ],
    [
      'a relay state as the token',
      { form: { csrf: seal(key, 'relay', { n: digest(nonce), q: digest(query), exp: NOW / 1000 + 60 }) } },
      'consent token not minted by this facade',
    ],
    [
      'a token over 4096 characters',
      {
        form: {
          csrf: seal(key, 'consent', {
            n: digest(nonce),
            q: digest(query),
            exp: NOW / 1000 + 60,
            pad: 'p'.repeat(4096),
          }),
        },
      },
      'consent token not minted by this facade',
    ],
    ['an expired token', { now: exp + 1 }, 'consent token expired'],
    [
      'a token whose exp is no number',
      { form: { csrf: seal(key, 'consent', { n: digest(nonce), q: digest(query), exp: `${NOW}` }) } },
      'consent token expired',
    ],
    [
      'a token minted for another cookie',
      { cookie: `${CONSENT_COOKIE}=${newNonce()}` },
      'consent token minted for another browser',
    ],
    [
      'a token minted for another request',
      { form: { request: `${query}&scope=admin` } },
      'consent token minted for another request',
    ],
    ['no decision', { form: { decision: undefined } }, 'bad decision null'],
    ['another decision', { form: { decision: 'yes' } }, 'bad decision yes'],
  ])('%s', (_n, p, want) => {
    expect(post(p)).toEqual(want);
  });

  it('reads a form without a request as the empty request', () => {
    expect(post({ form: { request: undefined, csrf: consentToken(key, nonce, '', NOW) } })).toEqual({
      allow: true,
      query: '',
      sealed: SEALED,
    });
  });

  it('accepts a request of exactly 16 KiB', () => {
    const big = 'x'.repeat(16 * 1024);
    expect(post({ form: { request: big, csrf: consentToken(key, nonce, big, NOW) } })).toEqual({
      allow: true,
      query: big,
      sealed: SEALED,
    });
  });

  it.each<[string, Post, unknown]>([
    ['the nonce as the token', { form: { csrf: nonce } }, { allow: true, query }],
    ['another nonce as the token', { form: { csrf: newNonce() } }, 'consent nonce mismatch'],
    [
      'a token that is no nonce',
      { form: { csrf: `${nonce}x` }, cookie: `${CONSENT_COOKIE}=${nonce}` },
      'consent nonce mismatch',
    ],
  ])('without a key: %s', (_n, p, want) => {
    expect(post({ ...p, key: undefined })).toEqual(want);
  });
});
