/** The id a JSON-RPC error for an upstream failure carries (forward/upstream-error.ts). */
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../../functions/proxy/forward/upstream-error.ts';
import { parseMcpBody } from '../../functions/proxy/mcp/jsonrpc.ts';

const parsed = (s: string) => parseMcpBody(new TextEncoder().encode(s));

describe('requestIdOf', () => {
  for (const [body, id] of [
    ['{"jsonrpc":"2.0","id":7,"method":"ping"}', 7],
    ['{"jsonrpc":"2.0","id":0,"method":"ping"}', 0],
    ['{"jsonrpc":"2.0","id":"x","method":"ping"}', 'x'],
    ['{"jsonrpc":"2.0","id":"","method":"ping"}', ''],
    ['{"jsonrpc":"2.0","method":"notifications/initialized"}', null],
    ['{"jsonrpc":"2.0","id":3,"result":{}}', null],
    ['[{"jsonrpc":"2.0","id":1,"method":"ping"}]', null],
    ['[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]', null],
  ] as const) {
    it(`${body} → ${JSON.stringify(id)}`, () => {
      expect(requestIdOf(parsed(body))).toBe(id);
    });
  }
  it('no body (GET, DELETE) → null', () => {
    expect(requestIdOf(undefined)).toBe(null);
  });
});
