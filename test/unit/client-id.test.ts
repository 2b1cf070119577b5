/**
 * Facade client ids (functions/discovery/client-id.ts): the registration sealed into the id, and
 * the redirect URI match made with it (exact, except the port of an http loopback URI).
 */
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID_PREFIX,
  MAX_CLIENT_ID_LENGTH,
  redirectRegistered,
  unwrapClientId,
  wrapClientId,
} from '../../functions/discovery/client-id.ts';
import { issueRelayState } from '../../functions/discovery/relay.ts';
import { seal } from '../../functions/shared/seal.ts';

const key = Buffer.alloc(32, 3);
const RU = 'http://127.0.0.1:5000/cb';

describe('wrapClientId / unwrapClientId', () => {
  it('round-trips the IdP client id, the URIs and the name', () => {
    const id = wrapClientId(key, 'idp-1', [RU, 'https://app.example/cb'], 'Cursor');
    expect(id.startsWith('mcp-')).toBe(true);
    expect(CLIENT_ID_PREFIX).toBe('mcp-');
    expect(unwrapClientId(key, id)).toEqual({
      idpClientId: 'idp-1',
      redirectUris: [RU, 'https://app.example/cb'],
      name: 'Cursor',
    });
    expect(unwrapClientId(key, wrapClientId(key, 'idp-1', []))).toEqual({
      idpClientId: 'idp-1',
      redirectUris: [],
      name: undefined,
    });
  });

  /** A value sealed with the real key for the client purpose around any payload. */
  const forged = (o: Record<string, unknown>) => `mcp-${seal(key, 'client', { c: 'idp', r: [RU], ...o })}`;
  it.each<[string, () => string]>([
    ['an id without the prefix', () => wrapClientId(key, 'idp', [RU]).slice(4)],
    ['an id with another prefix', () => `xcp-${wrapClientId(key, 'idp', [RU]).slice(4)}`],
    ['an id of another facade', () => wrapClientId(Buffer.alloc(32, 4), 'idp', [RU])],
    ['the IdP’s own id', () => 'idp'],
    ['a relay state with the prefix', () => `mcp-${issueRelayState(key, { ru: RU, clientId: 'c' }).state}`],
    ['no IdP client id', () => forged({ c: undefined })],
    ['an empty IdP client id', () => forged({ c: '' })],
    ['a numeric IdP client id', () => forged({ c: 1 })],
    ['URIs that are not a list', () => forged({ r: RU })],
    ['a URI that is not a string', () => forged({ r: [RU, 5] })],
    ['a name that is not a string', () => forged({ n: 5 })],
  ])('refuses %s', (_n, id) => {
    expect(unwrapClientId(key, id())).toBeUndefined();
  });

  it('accepts a sealed part of exactly the maximum length, not one character more', () => {
    // Grow the name until the sealed part (after `mcp-`) is MAX_CLIENT_ID_LENGTH long.
    let id = '';
    for (let n = 2800; n < 3100 && id.length - 4 !== MAX_CLIENT_ID_LENGTH; n++) {
      id = wrapClientId(key, 'idp', [RU], 'n'.repeat(n));
    }
    expect(id.length - 4).toBe(MAX_CLIENT_ID_LENGTH);
    expect(unwrapClientId(key, id)?.idpClientId).toBe('idp');
    let longer = id;
    for (let n = 2800; longer.length - 4 <= MAX_CLIENT_ID_LENGTH; n++) {
      longer = wrapClientId(key, 'idp', [RU], 'n'.repeat(n));
    }
    expect(unwrapClientId(key, longer)).toBeUndefined();
  });
});

describe('redirectRegistered', () => {
  it.each<[string, string, string[], boolean]>([
    ['the registered URI', RU, [RU], true],
    ['a custom-scheme URI registered', 'cursor://cb/x', ['cursor://cb/x'], true],
    ['a custom-scheme URI not registered', 'cursor://cb/y', ['cursor://cb/x'], false],
    ['127.0.0.1 with another port', 'http://127.0.0.1:6123/cb', [RU], true],
    ['127.0.0.1 without a port', 'http://127.0.0.1/cb', [RU], true],
    ['localhost with another port', 'http://localhost:1/cb', ['http://localhost:2/cb'], true],
    ['[::1] with another port', 'http://[::1]:1/cb', ['http://[::1]:2/cb'], true],
    ['another loopback host', 'http://localhost:5000/cb', [RU], false],
    ['another path', 'http://127.0.0.1:5000/cb2', [RU], false],
    ['another query', 'http://127.0.0.1:5000/cb?x=1', [RU], false],
    ['a query on both, equal', 'http://127.0.0.1:1/cb?x=1', ['http://127.0.0.1:2/cb?x=1'], true],
    ['https loopback with another port', 'https://localhost:1/cb', ['https://localhost:2/cb'], false],
    [
      'http loopback against an https registration',
      'http://localhost:1/cb',
      ['https://localhost:2/cb'],
      false,
    ],
    [
      'https loopback against an http registration',
      'https://localhost:1/cb',
      ['http://localhost:2/cb'],
      false,
    ],
    ['only a registered URI that does not parse', 'http://127.0.0.1:1/cb', ['http://['], false],
    ['http off loopback with another port', 'http://app.example:1/cb', ['http://app.example:2/cb'], false],
    ['https on another port', 'https://app.example:8443/cb', ['https://app.example/cb'], false],
    ['nothing registered', RU, [], false],
    ['a URI that does not parse', 'http://[', [RU], false],
    [
      'a registered URI that does not parse, then one that matches',
      'http://127.0.0.1:1/cb',
      ['http://[', RU],
      true,
    ],
  ])('%s', (_n, uri, registered, want) => {
    expect(redirectRegistered(uri, registered)).toBe(want);
  });
});
