/** The one error model: every thrown kind maps to one response shape, in one function. */
import { describe, expect, it } from 'vitest';
import { unavailable } from '../../functions/discovery/idp-http.ts';
import { SecretUnavailable } from '../../functions/discovery/secrets.ts';
import { VerifierUnavailable } from '../../functions/proxy/token.ts';
import {
  badRequest,
  DependencyError,
  errorResponse,
  forbidden,
  invalidClient,
  jsonRpcError,
  methodNotAllowed,
  notFound,
  toOAuthError,
  tooLarge,
} from '../../functions/shared/errors.ts';

describe('toOAuthError', () => {
  const cases: [string, unknown, number, string, Record<string, string>][] = [
    [
      'IdP unreachable',
      unavailable('connect ECONNREFUSED'),
      503,
      'temporarily_unavailable',
      { 'retry-after': '5' },
    ],
    [
      'IdP misconfigured',
      new DependencyError('identity provider', 'misconfigured', 'token_endpoint missing'),
      502,
      'server_error',
      {},
    ],
    [
      'secret unreadable',
      new SecretUnavailable('SSM parameter(s) /x unavailable: denied', ['/x']),
      503,
      'temporarily_unavailable',
      { 'retry-after': '5' },
    ],
    [
      'JWKS unreachable',
      new VerifierUnavailable('JWKS answered HTTP 500'),
      503,
      'temporarily_unavailable',
      { 'retry-after': '5' },
    ],
    ['anything else', new TypeError('x is undefined'), 500, 'server_error', {}],
    ['a string', 'boom', 500, 'server_error', {}],
  ];
  it.each(cases)('%s', async (_name, thrown, status, code, headers) => {
    const err = toOAuthError(thrown);
    expect({ status: err.status, code: err.code }).toEqual({ status, code });
    const res = errorResponse(err);
    expect(res.status).toBe(status);
    for (const [k, v] of Object.entries(headers)) expect(res.headers.get(k)).toBe(v);
    if (!headers['retry-after']) expect(res.headers.get('retry-after')).toBeNull();
    const body = await res.text();
    // The internal reason stays in the log.
    for (const secret of ['ECONNREFUSED', 'token_endpoint', '/x', 'HTTP 500', 'undefined', 'boom'])
      expect(body).not.toContain(secret);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('factories', () => {
  it.each([
    [badRequest('invalid_request', 'bad'), 400, 'invalid_request', {}],
    [invalidClient('unknown client'), 401, 'invalid_client', {}],
    [forbidden('origin not allowed'), 403, 'forbidden', {}],
    [notFound('unrouted /x'), 404, 'not_found', {}],
    [methodNotAllowed('GET, OPTIONS'), 405, 'method_not_allowed', { allow: 'GET, OPTIONS' }],
    [tooLarge('invalid_request', 1024), 413, 'invalid_request', {}],
  ] as const)('%#: %o', (err, status, code, headers) => {
    const res = errorResponse(err);
    expect(res.status).toBe(status);
    expect(err.code).toBe(code);
    for (const [k, v] of Object.entries(headers)) expect(res.headers.get(k)).toBe(v);
  });
});

describe('jsonRpcError', () => {
  it('answers with a JSON-RPC error body, no-store, the reason kept off the wire', async () => {
    const err = jsonRpcError(400, { id: 7, code: -32600, message: 'invalid request' }, 'duplicate key');
    const res = errorResponse(err);
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32600, message: 'invalid request' },
    });
    expect(text).not.toContain('duplicate key');
  });

  it('answers a message it could not read with id null', async () => {
    const res = errorResponse(jsonRpcError(400, { id: null, code: -32700, message: 'parse error' }));
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'parse error' },
    });
  });
});
