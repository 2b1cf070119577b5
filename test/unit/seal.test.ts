/**
 * Sealed values (functions/shared/seal.ts): `b64url(json).b64url(HMAC-SHA-256)`, each naming
 * its purpose, so nothing can be forged, altered, or replayed for another purpose.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sameBytes } from '../../functions/shared/constant-time.ts';
import { digest, issuerKey, seal, unseal } from '../../functions/shared/seal.ts';

const key = Buffer.alloc(32, 7);
const other = Buffer.alloc(32, 8);
const b64 = (s: string) => Buffer.from(s).toString('base64url');
/** A value MACed correctly with `key` around any body text (to reach the checks after the MAC). */
const macked = (bodyText: string) => {
  const body = b64(bodyText);
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
};

describe('digest, sameBytes, issuerKey', () => {
  it('digest is the base64url SHA-256', () => {
    expect(digest('abc')).toBe(createHash('sha256').update('abc').digest('base64url'));
    expect(digest('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it.each<[string | Uint8Array, string | Uint8Array, boolean]>([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', true],
    [Buffer.from('xyz'), 'xyz', true],
    ['xyz', Buffer.from('xy'), false],
  ])('sameBytes(%j, %j) is %s', (a, b, want) => {
    expect(sameBytes(a, b)).toBe(want);
  });

  it('derives one key per issuer: HMAC(key, "mcp-facade:" + issuer)', () => {
    const k = issuerKey(key, 'https://a.example');
    expect(Buffer.from(k).toString('hex')).toBe(
      createHmac('sha256', key).update('mcp-facade:https://a.example').digest('hex'),
    );
    expect(sameBytes(k, issuerKey(key, 'https://b.example'))).toBe(false);
  });
});

describe('seal / unseal', () => {
  it('round-trips a payload for its purpose, as body.mac', () => {
    const v = seal(key, 'relay', { a: 1, s: 'x' });
    expect(v).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(Buffer.from(v.split('.')[0]!, 'base64url').toString())).toEqual({
      a: 1,
      s: 'x',
      t: 'relay',
    });
    expect(unseal(key, 'relay', v, 1000)).toEqual({ a: 1, s: 'x', t: 'relay' });
  });

  it('names the purpose itself: a payload cannot choose it', () => {
    const v = seal(key, 'client', { t: 'relay' });
    expect(unseal(key, 'relay', v, 1000)).toBeUndefined();
    expect(unseal(key, 'client', v, 1000)).toEqual({ t: 'client' });
  });

  const good = seal(key, 'relay', { a: 1 });
  const [body, mac] = good.split('.') as [string, string];
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The last character with its 2 unused low bits flipped: another spelling of the same bytes. */
  const altLast = (m: string) => B64URL[B64URL.indexOf(m.at(-1)!) ^ 1]!;
  it.each<[string, string, string, number]>([
    ['another purpose', 'client', good, 1000],
    ['another key', 'relay', seal(other, 'relay', { a: 1 }), 1000],
    ['an altered body', 'relay', `${b64('{"a":2,"t":"relay"}')}.${mac}`, 1000],
    ['an altered MAC', 'relay', `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, 1000],
    ['a MAC with a character more', 'relay', `${good}A`, 1000],
    ['a MAC with a character less', 'relay', good.slice(0, -1), 1000],
    ['a MAC spelled with junk', 'relay', `${body}.${mac.slice(0, 42)}=`, 1000],
    // Base64url decoding skips these, so the bytes would still match: one spelling only.
    ['a MAC with padding after it', 'relay', `${good}=`, 1000],
    // The 43rd character carries 2 unused bits: the same bytes have 4 spellings; only one counts.
    ['a MAC whose unused last bits are set', 'relay', `${body}.${mac.slice(0, 42)}${altLast(mac)}`, 1000],
    ['a MAC with a space before it', 'relay', `${body}. ${mac}`, 1000],
    ['no dot', 'relay', body + mac, 1000],
    ['an empty body', 'relay', `.${mac}`, 1000],
    ['a second dot', 'relay', `${body}.${mac}.x`, 1000],
    ['one character over the limit', 'relay', good, good.length - 1],
    ['a body that is not JSON', 'relay', macked('not json'), 1000],
    ['a body that is null', 'relay', macked('null'), 1000],
    ['a body that is a string', 'relay', macked('"relay"'), 1000],
    ['a body without a purpose', 'relay', macked('{"a":1}'), 1000],
  ])('refuses %s', (_n, purpose, value, max) => {
    expect(unseal(key, purpose, value, max)).toBeUndefined();
  });

  it('accepts a value exactly at the length limit, and one MACed around a JSON object', () => {
    expect(unseal(key, 'relay', good, good.length)).toEqual({ a: 1, t: 'relay' });
    expect(unseal(key, 'relay', macked('{"t":"relay","x":[1]}'), 1000)).toEqual({ t: 'relay', x: [1] });
  });
});
