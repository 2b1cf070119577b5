/**
 * SSM secrets through the real AWS SDK client against a local endpoint speaking the SSM JSON
 * protocol (no in-process mock of the SDK).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretResolver, SecretUnavailable, secretRefsOf } from '../../functions/discovery/secrets.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { createLogger } from '../../functions/shared/log.ts';
import {
  SSM_ACCESS_KEY,
  SSM_REGION,
  SSM_SECRET_KEY,
  type SsmServer,
  ssmClientConfig,
  startSsmServer,
} from '../helpers/ssm-server.ts';

let ssm: SsmServer;
const lines: Record<string, unknown>[] = [];
const log = createLogger('secrets-test', 'debug', (l) => lines.push(JSON.parse(l)));

beforeAll(async () => {
  ssm = await startSsmServer({
    '/mcp/asgardeo/client-secret': { value: 's3cr3t-asgardeo' },
    '/mcp/other': { value: 'other-value' },
    '/mcp/plain': { value: 'plain-value', type: 'String' },
  });
});
afterAll(() => ssm.close());
afterEach(() => {
  ssm.calls.length = 0;
  lines.length = 0;
  ssm.denied.clear();
});

const resolver = (extra: { ttlSeconds?: number; now?: () => number; allowInline?: boolean } = {}) =>
  createSecretResolver({
    ssm: ssmClientConfig(ssm),
    log,
    ...extra,
  });

describe('SSM secret resolver', () => {
  it('reads SecureStrings with decryption, in one batch at preload, then from cache', async () => {
    const r = resolver();
    await r.preload([
      { ssmParameter: '/mcp/asgardeo/client-secret' },
      { ssmParameter: '/mcp/other' },
      { value: 'inline' },
    ]);
    expect(ssm.calls).toEqual([
      { names: ['/mcp/asgardeo/client-secret', '/mcp/other'], withDecryption: true },
    ]);
    expect(await r.resolve({ ssmParameter: '/mcp/asgardeo/client-secret' })).toBe('s3cr3t-asgardeo');
    expect(await r.resolve({ ssmParameter: '/mcp/other' })).toBe('other-value');
    expect(ssm.calls).toHaveLength(1);
    expect(ssm.rejected).toEqual([]);
    // Values never reach the logs.
    expect(JSON.stringify(lines)).not.toContain('s3cr3t');
  });

  it('re-reads a parameter after the TTL (rotation is picked up)', async () => {
    let t = 1_000_000;
    const r = resolver({ ttlSeconds: 60, now: () => t });
    expect(await r.resolve({ ssmParameter: '/mcp/other' })).toBe('other-value');
    ssm.set('/mcp/other', { value: 'rotated' });
    t += 59_000;
    expect(await r.resolve({ ssmParameter: '/mcp/other' })).toBe('other-value');
    t += 2_000;
    expect(await r.resolve({ ssmParameter: '/mcp/other' })).toBe('rotated');
    expect(ssm.calls).toHaveLength(2);
    ssm.set('/mcp/other', { value: 'other-value' });
  });

  it('deduplicates concurrent reads of the same parameter', async () => {
    const r = resolver();
    const vals = await Promise.all(
      Array.from({ length: 5 }, () => r.resolve({ ssmParameter: '/mcp/other' })),
    );
    expect(vals).toEqual(Array(5).fill('other-value'));
    expect(ssm.calls).toHaveLength(1);
  });

  it('splits more than 10 names into GetParameters batches of 10', async () => {
    for (let i = 0; i < 12; i++) ssm.set(`/mcp/n${i}`, { value: `v${i}` });
    const r = resolver();
    await r.preload(Array.from({ length: 12 }, (_, i) => ({ ssmParameter: `/mcp/n${i}` })));
    // The batches go out together: their order of arrival is not fixed.
    expect(ssm.calls.map((c) => c.names.length).sort((a, b) => b - a)).toEqual([10, 2]);
    expect(await r.resolve({ ssmParameter: '/mcp/n11' })).toBe('v11');
  });

  it('fails closed when one parameter is missing, naming it in the log, and caches nothing from the batch', async () => {
    const r = resolver();
    const err = await r
      .preload([{ ssmParameter: '/mcp/other' }, { ssmParameter: '/mcp/missing' }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(SecretUnavailable);
    expect(err.parameters).toEqual(['/mcp/missing']);
    expect(err.message).toContain('/mcp/missing');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'secret unavailable', parameter: '/mcp/missing' }),
    );
    // Never half-configured: the good parameter of the failed batch was not kept either.
    ssm.calls.length = 0;
    await r.resolve({ ssmParameter: '/mcp/other' });
    expect(ssm.calls).toHaveLength(1);
  });

  it('fails closed on AccessDeniedException, logging every parameter of the call', async () => {
    ssm.denied.add('/mcp/asgardeo/client-secret');
    const r = resolver();
    const err = await r.resolve({ ssmParameter: '/mcp/asgardeo/client-secret' }).catch((e) => e);
    expect(err).toBeInstanceOf(SecretUnavailable);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'secret unavailable',
        parameter: '/mcp/asgardeo/client-secret',
        reason: 'AccessDeniedException',
      }),
    );
  });

  it('fails closed after the TTL when the parameter was deleted (no stale secret served)', async () => {
    let t = 0;
    ssm.set('/mcp/temp', { value: 'temp' });
    const r = resolver({ ttlSeconds: 10, now: () => t });
    expect(await r.resolve({ ssmParameter: '/mcp/temp' })).toBe('temp');
    ssm.delete('/mcp/temp');
    t += 11_000;
    await expect(r.resolve({ ssmParameter: '/mcp/temp' })).rejects.toBeInstanceOf(SecretUnavailable);
  });

  it('fails closed when SSM cannot be reached', async () => {
    const r = createSecretResolver({
      ssm: {
        region: SSM_REGION,
        endpoint: 'http://127.0.0.1:9', // discard port: connection refused
        credentials: { accessKeyId: SSM_ACCESS_KEY, secretAccessKey: SSM_SECRET_KEY },
        maxAttempts: 1,
      },
      log,
    });
    await expect(r.resolve({ ssmParameter: '/mcp/other' })).rejects.toBeInstanceOf(SecretUnavailable);
    expect(lines).toContainEqual(expect.objectContaining({ parameter: '/mcp/other' }));
  });

  it('refuses a plain String or StringList parameter as a secret, naming it, and caches nothing from the batch', async () => {
    ssm.set('/mcp/list', { value: 'a,b', type: 'StringList' });
    const r = resolver();
    const err = await r
      .preload([
        { ssmParameter: '/mcp/other' },
        { ssmParameter: '/mcp/plain' },
        { ssmParameter: '/mcp/list' },
      ])
      .catch((e) => e);
    expect(err).toBeInstanceOf(SecretUnavailable);
    expect(err.parameters).toEqual(['/mcp/plain', '/mcp/list']);
    expect(err.failure).toBe('misconfigured');
    expect(err.message).toBe('SSM parameter(s) /mcp/plain, /mcp/list unavailable: not a SecureString');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'secret unavailable', parameter: '/mcp/plain' }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', parameter: '/mcp/list' }));
    expect(JSON.stringify(lines)).not.toContain('plain-value');
    await expect(r.resolve({ ssmParameter: '/mcp/plain' })).rejects.toBeInstanceOf(SecretUnavailable);
    // The SecureString of the refused batch was not kept either.
    ssm.calls.length = 0;
    expect(await r.resolve({ ssmParameter: '/mcp/other' })).toBe('other-value');
    expect(ssm.calls).toHaveLength(1);
    ssm.delete('/mcp/list');
  });

  it('returns inline values for local runs without calling SSM, and refuses them when told to', async () => {
    expect(await resolver().resolve({ value: 'local-only' })).toBe('local-only');
    expect(ssm.calls).toHaveLength(0);
    await expect(resolver({ allowInline: false }).resolve({ value: 'x' })).rejects.toBeInstanceOf(
      SecretUnavailable,
    );
    await expect(resolver({ allowInline: false }).preload([{ value: 'x' }])).rejects.toBeInstanceOf(
      SecretUnavailable,
    );
  });

  it('refuses inline secrets by default inside Lambda', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'discovery';
    try {
      await expect(resolver().resolve({ value: 'x' })).rejects.toThrow(/inline secrets are not allowed/);
    } finally {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    }
  });

  it('collects the secrets the config references', () => {
    const cfg = parseConfig({
      base_url: 'http://127.0.0.1:1',
      asgardeo: {
        org_name: 'acme',
        client_id: 'cid',
        client_secret_ssm_parameter: '/mcp/asgardeo/client-secret',
      },
    });
    expect(secretRefsOf(cfg)).toEqual([{ ssmParameter: '/mcp/asgardeo/client-secret' }]);
  });
});
