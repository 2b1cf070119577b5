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
