/** The id a JSON-RPC error for an upstream failure carries (forward/upstream-error.ts). */
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../../functions/proxy/forward/upstream-error.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('requestIdOf', () => {
  for (const [body, id] of [
    ['{"jsonrpc":"2.0","id":7,"method":"ping"}', 7],
    ['{"jsonrpc":"2.0","id":0,"method":"ping"}', 0],
    ['{"jsonrpc":"2.0","id":"x","method":"ping"}', 'x'],
    ['{"jsonrpc":"2.0","id":"","method":"ping"}', ''],
    ['{"jsonrpc":"2.0","id":null,"method":"ping"}', null],
    ['{"jsonrpc":"2.0","id":true,"method":"ping"}', null],
    ['{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', null],
    ['{"jsonrpc":"2.0","method":"notifications/initialized"}', null],
    ['{"jsonrpc":"2.0","id":3,"result":{}}', null],
    ['[{"jsonrpc":"2.0","id":1,"method":"ping"}]', null],
    ['"just a string"', null],
    ['null', null],
    ['{"jsonrpc":"2.0","id":7,', null],
    ['', null],
  ] as const) {
    it(`${body || '(empty)'} → ${JSON.stringify(id)}`, () => {
      expect(requestIdOf(enc(body))).toBe(id);
    });
  }
  it('no body (GET, DELETE) → null', () => {
    expect(requestIdOf(undefined)).toBe(null);
  });
});
