/**
 * CORS and Origin policy (functions/shared/cors.ts), table by table: which origins may use the
 * MCP endpoints, and the exact headers of an allowed cross-origin answer and of a preflight.
 */
import { describe, expect, it } from 'vitest';
import {
  type CorsConfig,
  corsHeaders,
  originAllowed,
  preflightHeaders,
} from '../../functions/shared/cors.ts';

const SELF = 'https://proxy.example';
const base: CorsConfig = {
  allowedOrigins: ['https://app.example'],
  allowedMethods: ['GET', 'POST'],
  allowedHeaders: ['Authorization', 'Content-Type'],
  exposedHeaders: ['Mcp-Session-Id', 'WWW-Authenticate'],
  allowCredentials: false,
  maxAgeSeconds: 600,
};
const cfg = (over: Partial<CorsConfig> = {}): CorsConfig => ({ ...base, ...over });

describe('originAllowed', () => {
  it.each<[string, Partial<CorsConfig>, string | null, boolean]>([
    ['no Origin (not a browser)', { allowedOrigins: [] }, null, true],
    ['our own origin, empty list', { allowedOrigins: [] }, SELF, true],
    ['a listed origin', {}, 'https://app.example', true],
    ['an unlisted origin', {}, 'https://evil.example', false],
    ['a listed origin with another port', {}, 'https://app.example:8443', false],
    ['a listed origin over http', {}, 'http://app.example', false],
    ['Origin: null (sandboxed frame)', {}, 'null', false],
    ['any origin with "*"', { allowedOrigins: ['*'] }, 'https://evil.example', true],
    ['empty list', { allowedOrigins: [] }, 'https://app.example', false],
  ])('%s', (_name, over, origin, want) => {
    expect(originAllowed(cfg(over), origin, SELF)).toBe(want);
  });
});

describe('corsHeaders', () => {
  it.each<[string, Partial<CorsConfig>, string | null, Record<string, string>]>([
    ['no Origin: no CORS headers', {}, null, {}],
    ['a refused origin: no CORS headers', {}, 'https://evil.example', {}],
    [
      'a listed origin: echoed, Vary: Origin',
      {},
      'https://app.example',
      {
        'access-control-allow-origin': 'https://app.example',
        'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
        vary: 'Origin',
      },
    ],
    [
      'our own origin: echoed, Vary: Origin',
      { allowedOrigins: [] },
      SELF,
      {
        'access-control-allow-origin': SELF,
        'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
        vary: 'Origin',
      },
    ],
    [
      '"*" without credentials: a literal *, no Vary',
      { allowedOrigins: ['*'] },
      'https://any.example',
      {
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
      },
    ],
    [
      // The Fetch standard refuses `*` with credentials: the origin is echoed and varies.
      '"*" with credentials: the origin echoed, Vary: Origin, credentials true',
      { allowedOrigins: ['*'], allowCredentials: true },
      'https://any.example',
      {
        'access-control-allow-origin': 'https://any.example',
        'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
        vary: 'Origin',
        'access-control-allow-credentials': 'true',
      },
    ],
    [
      'a listed origin with credentials',
      { allowCredentials: true },
      'https://app.example',
      {
        'access-control-allow-origin': 'https://app.example',
        'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
        vary: 'Origin',
        'access-control-allow-credentials': 'true',
      },
    ],
  ])('%s', (_name, over, origin, want) => {
    expect(corsHeaders(cfg(over), origin, SELF)).toEqual(want);
  });
});

describe('preflightHeaders', () => {
  it('answers an allowed origin with methods, headers and max age', () => {
    expect(preflightHeaders(cfg(), 'https://app.example', SELF)).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
      vary: 'Origin',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': '600',
    });
  });

  it.each<[string, string | null]>([
    ['a refused origin', 'https://evil.example'],
    ['no Origin', null],
  ])('answers %s with no CORS headers at all', (_name, origin) => {
    expect(preflightHeaders(cfg(), origin, SELF)).toEqual({});
  });
});
