/**
 * SSM throttles the discovery function's cold-start read of its secrets. Through the discovery
 * Lambda handler and the real @aws-sdk/client-ssm against the local SSM endpoint
 * (test/helpers/ssm-server.ts), which answers ThrottlingException and times every call: retried
 * with growing waits; if it stays throttled, every request fails closed (503, Retry-After, the
 * log naming the parameter, nothing at the IdP) until SSM answers again. Missing and denied
 * parameters are in test/discovery/secrets-handler.test.ts and secrets.test.ts.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildHandler } from '../../functions/discovery/index.ts';
import { SCOPE_CREATE } from '../../functions/discovery/providers/asgardeo.ts';
import {
  createSecretResolver,
  SecretUnavailable,
  SSM_MAX_ATTEMPTS,
  ssmRetryDelayMs,
} from '../../functions/discovery/secrets.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { createLogger } from '../../functions/shared/log.ts';
import { type AsgardeoContract, startAsgardeoContract } from '../helpers/asgardeo-contract.ts';
import { type SsmServer, ssmClientConfig, startSsmServer } from '../helpers/ssm-server.ts';

const PARAM = '/mcp/asgardeo/client-secret';
const event = JSON.parse(
  readFileSync(new URL('../../events/discovery-post-register.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEventV2;

let ssm: SsmServer;
let asg: AsgardeoContract;
beforeAll(async () => {
  ssm = await startSsmServer({ [PARAM]: { value: 'from-ssm' } });
  asg = await startAsgardeoContract({
    org: 'acme',
    clientId: 'm2mClientId0001',
    clientSecret: 'from-ssm',
    expectScope: [SCOPE_CREATE],
  });
});
afterAll(async () => {
  await Promise.all([ssm?.close(), asg?.close()]);
});
beforeEach(() => {
  ssm.calls.length = 0;
  ssm.arrivals.length = 0;
  ssm.throttle(0);
  ssm.denied.clear();
});

/** A cold start: the handler built now preloads its secret at once. */
function coldStart() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('discovery', 'debug', (l) => lines.push(JSON.parse(l)));
  const config = parseConfig({
    base_url: 'http://127.0.0.1:1',
    asgardeo: {
      org_name: 'acme',
      client_id: 'm2mClientId0001',
      client_secret_ssm_parameter: PARAM,
      api_base_url: asg.url,
    },
  });
  const secrets = createSecretResolver({ ssm: ssmClientConfig(ssm), log });
  return { handle: buildHandler(config, { secrets, log }), lines };
}

/** Gaps between consecutive SSM calls (ms). */
const gaps = () => ssm.arrivals.slice(1).map((t, i) => t - ssm.arrivals[i]!);

describe('the retry waits (ssmRetryDelayMs)', () => {
  it('are 200–400, 400–800, 800–1600 ms: jittered, and each at least the one before', () => {
    const windows = [1, 2, 3].map((n) => [ssmRetryDelayMs(n, 0), ssmRetryDelayMs(n, 0.9999)]);
    expect(windows).toEqual([
      [200, 399],
      [400, 799],
      [800, 1599],
    ]);
    for (let n = 1; n < 3; n++) expect(ssmRetryDelayMs(n + 1, 0)).toBeGreaterThan(ssmRetryDelayMs(n, 0.9999));
  });
});

describe('SSM throttled at cold start', () => {
  it('retries with growing waits and serves the request once SSM answers', async () => {
    ssm.throttle(2);
    const apps0 = asg.apps.length;
    const { handle } = coldStart();
    const res = await handle(event);
    expect(res.statusCode).toBe(201);
    expect(asg.apps.length).toBe(apps0 + 1);
    expect(ssm.arrivals).toHaveLength(3); // two throttled, the third answered
    const [g1, g2] = gaps() as [number, number];
    // Timers never fire early: each gap is at least its window's floor, and the floors double.
    expect(g1).toBeGreaterThanOrEqual(200);
    expect(g2).toBeGreaterThanOrEqual(400);
  });

  it('fails closed when it stays throttled, naming the parameter; recovers when it stops', async () => {
    ssm.throttle(Number.POSITIVE_INFINITY);
    const apps0 = asg.apps.length;
    const tokens0 = asg.tokenRequests.length;
    const { handle, lines } = coldStart();

    const r1 = await handle(event);
    expect(r1.statusCode).toBe(503);
    expect(r1.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(r1.body as string)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the service is not available',
    });
    expect(r1.body).not.toContain(PARAM); // named in the log, never on the wire
    expect(ssm.arrivals).toHaveLength(SSM_MAX_ATTEMPTS);
    const [g1, g2, g3] = gaps() as [number, number, number];
    expect([g1 >= 200, g2 >= 400, g3 >= 800]).toEqual([true, true, true]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'secret unavailable',
        parameter: PARAM,
        reason: 'ThrottlingException',
      }),
    );
    // Nothing half-done: no token fetched from the IdP, no application created.
    expect({ apps: asg.apps.length, tokens: asg.tokenRequests.length }).toEqual({
      apps: apps0,
      tokens: tokens0,
    });

    // Throttling over: the next request loads the secret (one call) and is served.
    ssm.throttle(0);
    ssm.arrivals.length = 0;
    const r2 = await handle(event);
    expect(r2.statusCode).toBe(201);
    expect(ssm.arrivals).toHaveLength(1);
    expect(asg.apps.length).toBe(apps0 + 1);
  });

  it('does not retry what retrying cannot fix (AccessDeniedException): one call', async () => {
    ssm.denied.add(PARAM);
    const r = createSecretResolver({ ssm: ssmClientConfig(ssm) });
    await expect(r.resolve({ ssmParameter: PARAM })).rejects.toBeInstanceOf(SecretUnavailable);
    expect(ssm.arrivals).toHaveLength(1);
  });
});
