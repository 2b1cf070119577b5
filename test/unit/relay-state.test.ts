/**
 * The relay's state and the client's redirect (functions/discovery/relay.ts), table by table:
 * a state is honoured only if this facade sealed it as a relay state, it has not expired, it is
 * well formed and the browser presenting it holds the cookie it was issued with.
 */
import { describe, expect, it } from 'vitest';
import { wrapClientId } from '../../functions/discovery/client-id.ts';
import {
  CALLBACK_PATH,
  CODE_TTL_SECONDS,
  callbackUrl,
  clientIdHash,
  clientRedirect,
  issueRelayState,
  openCode,
  RELAY_TTL_SECONDS,
  readRelayState,
  sealCode,
} from '../../functions/discovery/relay.ts';
import { OAuthError } from '../../functions/shared/errors.ts';
import { digest, seal, unseal } from '../../functions/shared/seal.ts';

const key = Buffer.alloc(32, 1);
const NOW = 1_800_000_000_000;
const RU = 'http://127.0.0.1:5000/cb';

/** The `name=value` of a Set-Cookie, as a Cookie header. */
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;
/** The internal reason of a refusal, or the state read. */
const read = (raw: string | null, cookie: string | null, now = NOW) => {
  try {
    return readRelayState(key, raw, cookie, now);
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    expect({ status: e.status, code: e.code, description: e.description }).toEqual({
      status: 400,
      code: 'invalid_request',
      description: 'invalid or expired authorization response',
    });
    return e.reason;
  }
};

describe('callbackUrl', () => {
  it('is the issuer with /callback', () => {
    expect(CALLBACK_PATH).toBe('/callback');
    expect(callbackUrl('https://f.example/auth')).toBe('https://f.example/auth/callback');
  });
});

describe('issueRelayState', () => {
  it('seals the flow and binds it to a __Host- cookie whose hash it carries', () => {
    const { state, cookie } = issueRelayState(key, { ru: RU, st: 'xyz', clientId: 'mcp-c1' }, NOW + 999);
    const o = unseal(key, 'relay', state, 16 * 1024)!;
    const m =
      /^__Host-mcp-relay-([A-Za-z0-9_-]{8})=([A-Za-z0-9_-]{43}); Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=900$/.exec(
        cookie,
      );
    expect(m).not.toBeNull();
    expect(o).toEqual({
      ru: RU,
      st: 'xyz',
      cid: digest('mcp-c1').slice(0, 16),
      bid: m![1],
      bh: digest(m![2]!),
      exp: NOW / 1000 + RELAY_TTL_SECONDS,
      t: 'relay',
    });
    expect(RELAY_TTL_SECONDS).toBe(900);
  });

  it('gives every flow its own binding', () => {
    const a = issueRelayState(key, { ru: RU, clientId: 'c' }, NOW);
    const b = issueRelayState(key, { ru: RU, clientId: 'c' }, NOW);
    expect(a.cookie).not.toBe(b.cookie);
    expect(a.state).not.toBe(b.state);
  });
});

describe('readRelayState', () => {
  const issued = issueRelayState(key, { ru: RU, st: 's1', clientId: 'mcp-c1' }, NOW);
  const cookie = cookieOf(issued.cookie);
  const bid = /relay-([^=]+)=/.exec(cookie)![1]!;
  const nonce = cookie.split('=')[1]!;
  /** A state sealed with the real key around any payload (to reach the checks after the MAC). */
  const forged = (over: Record<string, unknown>) =>
    seal(key, 'relay', { ru: RU, cid: 'h', bid, bh: digest(nonce), exp: NOW / 1000 + 60, ...over });

  it('reads a state issued to this browser, with the cookie to clear', () => {
    expect(read(issued.state, `a=1; ${cookie}; b=2`)).toEqual({
      ru: RU,
      st: 's1',
      cid: digest('mcp-c1').slice(0, 16),
      expiresAtMs: (Math.floor(NOW / 1000) + RELAY_TTL_SECONDS) * 1000,
      clearCookie: `__Host-mcp-relay-${bid}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`,
    });
  });

  it('is still valid at the second it expires, not after', () => {
    const exp = NOW + RELAY_TTL_SECONDS * 1000;
    expect(read(issued.state, cookie, exp)).toMatchObject({ ru: RU });
    expect(read(issued.state, cookie, exp + 1)).toBe('relay state expired');
  });

  it('reads a state without a client state', () => {
    const s = issueRelayState(key, { ru: RU, clientId: 'c' }, NOW);
    expect(read(s.state, cookieOf(s.cookie))).toMatchObject({ ru: RU, st: undefined });
  });

  it.each<[string, () => [string | null, string | null], string]>([
    ['no state', () => [null, cookie], 'no relay state'],
    ['an empty state', () => ['', cookie], 'no relay state'],
    [
      'a state of another facade',
      () => [issueRelayState(Buffer.alloc(32, 2), { ru: RU, clientId: 'c' }, NOW).state, cookie],
      'relay state not issued by this facade',
    ],
    // A sealed client id is a value of the same key: its purpose keeps it from being a state.
    [
      'a sealed client id',
      () => [wrapClientId(key, 'idp', [RU]).slice(4), cookie],
      'relay state not issued by this facade',
    ],
    [
      'a consent token',
      () => [seal(key, 'consent', { n: 'x', q: 'y', exp: NOW / 1000 + 60 }), cookie],
      'relay state not issued by this facade',
    ],
    [
      'a state over 16 KiB',
      () => [forged({ ru: `${RU}?${'x'.repeat(16 * 1024)}` }), cookie],
      'relay state not issued by this facade',
    ],
    ['an exp that is not a number', () => [forged({ exp: String(NOW) }), cookie], 'relay state expired'],
    ['no ru', () => [forged({ ru: undefined }), cookie], 'relay state malformed'],
    ['a numeric cid', () => [forged({ cid: 5 }), cookie], 'relay state malformed'],
    ['no bid', () => [forged({ bid: undefined }), cookie], 'relay state malformed'],
    ['a 7-character bid', () => [forged({ bid: bid.slice(1) }), cookie], 'relay state malformed'],
    ['a 9-character bid', () => [forged({ bid: `${bid}A` }), cookie], 'relay state malformed'],
    [
      'a bid with a cookie separator',
      () => [forged({ bid: `${bid.slice(1)};` }), cookie],
      'relay state malformed',
    ],
    ['a bid with junk in front', () => [forged({ bid: `=${bid}` }), cookie], 'relay state malformed'],
    // Digits would pass the syntax check as text: the type is checked first.
    [
      'a numeric bid',
      () => [forged({ bid: 12345678 }), `__Host-mcp-relay-12345678=${nonce}`],
      'relay state malformed',
    ],
    ['no bh', () => [forged({ bh: undefined }), cookie], 'relay state malformed'],
    ['a numeric st', () => [forged({ st: 1 }), cookie], 'relay state malformed'],
    ['no cookie', () => [issued.state, null], 'relay state presented by another browser'],
    [
      'another flow’s cookie',
      () => [issued.state, cookieOf(issueRelayState(key, { ru: RU, clientId: 'c' }, NOW).cookie)],
      'relay state presented by another browser',
    ],
    [
      'the right cookie with another value',
      () => [issued.state, `__Host-mcp-relay-${bid}=${'A'.repeat(43)}`],
      'relay state presented by another browser',
    ],
    [
      'the cookie value under another name',
      () => [issued.state, `__Host-mcp-relay-XXXXXXXX=${nonce}`],
      'relay state presented by another browser',
    ],
    [
      'an empty cookie',
      () => [issued.state, `__Host-mcp-relay-${bid}=`],
      'relay state presented by another browser',
    ],
  ])('refuses %s', (_n, args, reason) => {
    const [raw, c] = args();
    expect(read(raw, c)).toBe(reason);
  });

  it('refuses an empty cookie even against a state sealed with the hash of the empty string', () => {
    // The facade never issues an empty nonce; an empty or absent cookie binds no browser.
    expect(read(forged({ bh: digest('') }), `__Host-mcp-relay-${bid}=`)).toBe(
      'relay state presented by another browser',
    );
    expect(read(forged({ bh: digest('') }), null)).toBe('relay state presented by another browser');
  });
});

describe('clientRedirect', () => {
  const ISS = 'https://f.example';
  /** The redirect, with the sealed code opened again (sealCode/openCode) to show what it carries. */
  const go = (ru: string, st: string | undefined, idp: string) => {
    try {
      const clientId = 'mcp-client';
      const out = clientRedirect(
        key,
        { ru, st, cid: clientIdHash(clientId), expiresAtMs: 0 },
        new URLSearchParams(idp),
        ISS,
      );
      const sealed = new URL(out).searchParams.get('code');
      return sealed === null ? out : out.replace(sealed, openCode(key, sealed, clientId, ru).code);
    } catch (e) {
      return (e as OAuthError).reason;
    }
  };
  it.each<[string, string, string | undefined, string, string]>([
    [
      'a code with the client state',
      RU,
      's',
      'code=c1&state=idp&session_state=x&iss=https://idp',
      `${RU}?code=c1&state=s&iss=https%3A%2F%2Ff.example`,
    ],
    [
      'no client state: none sent',
      RU,
      undefined,
      'code=c1&state=idp',
      `${RU}?code=c1&iss=https%3A%2F%2Ff.example`,
    ],
    [
      'an error with its description, not its URI',
      RU,
      's',
      'error=access_denied&error_description=no&error_uri=https://evil',
      `${RU}?error=access_denied&error_description=no&state=s&iss=https%3A%2F%2Ff.example`,
    ],
    [
      'the client’s own query kept, ours replacing state and iss',
      `${RU}?a=1&state=old&iss=x`,
      's',
      'code=c1',
      `${RU}?a=1&state=s&iss=https%3A%2F%2Ff.example&code=c1`,
    ],
    [
      'an empty client state is still its state',
      RU,
      '',
      'code=c1',
      `${RU}?code=c1&state=&iss=https%3A%2F%2Ff.example`,
    ],
    ['neither code nor error', RU, 's', 'state=idp', 'authorization response has neither code nor error'],
    ['an empty code and no error', RU, 's', 'code=', 'authorization response has neither code nor error'],
  ])('%s', (_n, ru, st, idp, want) => {
    expect(go(ru, st, idp)).toBe(want);
  });
});

describe('sealCode / openCode: the relayed code, bound to its client, redirect URI and 10 minutes', () => {
  const CID = 'mcp-client';
  const state = { ru: RU, cid: clientIdHash(CID), expiresAtMs: 0 };
  /** Sealed inside each test (a value made while tests are collected escapes mutation testing). */
  const sealedNow = () => sealCode(key, 'idp-code', state, NOW);
  /** The refusal's internal reason (after checking it is the one invalid_grant clients read), or the code. */
  const open = (value: string, clientId = CID, ru = RU, now = NOW) => {
    try {
      return openCode(key, value, clientId, ru, now);
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      expect({ status: e.status, code: e.code, description: e.description }).toEqual({
        status: 400,
        code: 'invalid_grant',
        description: 'invalid, expired or already used authorization code',
      });
      return e.reason;
    }
  };
  const forged = (over: Record<string, unknown>) =>
    seal(key, 'code', { c: 'idp-code', cid: clientIdHash(CID), ru: RU, exp: NOW / 1000 + 60, ...over });

  it('opens to the IdP code, named by its digest, expiring 600 s after it was sealed', () => {
    expect(CODE_TTL_SECONDS).toBe(600);
    const sealed = sealedNow();
    expect(open(sealed)).toEqual({ code: 'idp-code', id: digest(sealed), expiresAtMs: NOW + 600_000 });
    expect(open(sealed, CID, RU, NOW + 600_000)).toMatchObject({ code: 'idp-code' }); // the last moment
  });

  it.each<[string, () => string, string?, string?, number?, string?]>([
    ['junk', () => 'junk', undefined, undefined, undefined, 'code not relayed by this facade'],
    [
      'another key',
      () => sealCode(Buffer.alloc(32, 9), 'c', state, NOW),
      undefined,
      undefined,
      undefined,
      'code not relayed by this facade',
    ],
    [
      'a relay state as a code',
      () => seal(key, 'relay', { c: 'c', cid: state.cid, ru: RU, exp: NOW / 1000 + 60 }),
      undefined,
      undefined,
      undefined,
      'code not relayed by this facade',
    ],
    [
      'over 16 KiB',
      () => forged({ pad: 'p'.repeat(16 * 1024) }),
      undefined,
      undefined,
      undefined,
      'code not relayed by this facade',
    ],
    ['expired by a millisecond', sealedNow, undefined, undefined, NOW + 600_001, 'relayed code expired'],
    ['no expiry', () => forged({ exp: undefined }), undefined, undefined, undefined, 'relayed code expired'],
    [
      'an expiry that is no number',
      () => forged({ exp: String(NOW / 1000 + 60) }),
      undefined,
      undefined,
      undefined,
      'relayed code expired',
    ],
    [
      'no IdP code',
      () => forged({ c: undefined }),
      undefined,
      undefined,
      undefined,
      'relayed code malformed',
    ],
    [
      'a client hash that is no string',
      () => forged({ cid: 7 }),
      undefined,
      undefined,
      undefined,
      'relayed code malformed',
    ],
    [
      'a redirect URI that is no string',
      () => forged({ ru: ['x'] }),
      undefined,
      undefined,
      undefined,
      'relayed code malformed',
    ],
    ['another client', sealedNow, 'mcp-other', undefined, undefined, 'code relayed to another client'],
    [
      'another redirect URI',
      sealedNow,
      undefined,
      `${RU}/x`,
      undefined,
      'redirect_uri differs from the authorization request',
    ],
  ])('%s: refused', (_n, value, clientId, ru, now, reason) => {
    expect(open(value(), clientId ?? CID, ru ?? RU, now ?? NOW)).toBe(reason);
  });
});
