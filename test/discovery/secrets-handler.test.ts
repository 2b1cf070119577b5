/**
 * Cold-start secrets through the discovery Lambda handler: the SSM-backed Asgardeo secret is read
 * once (GetParameters, WithDecryption) through the real SDK against the local SSM endpoint; a
 * missing or denied parameter fails every request closed (503, log line naming the parameter) and
 * nothing reaches the IdP, until the parameter can be read.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHandler } from '../../functions/discovery/index.ts';
import { SCOPE_CREATE } from '../../functions/discovery/providers/asgardeo.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
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
  ssm = await startSsmServer();
  asg = await startAsgardeoContract({
    org: 'acme',
    clientId: 'm2mClientId0001',
    clientSecret: 'from-ssm',
    expectScope: [SCOPE_CREATE],
  });
});
afterAll(async () => {
  await Promise.all([ssm.close(), asg.close()]);
});

function handler() {
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
  const secrets = createSecretResolver({
    ssm: ssmClientConfig(ssm),
    log,
  });
  return { handle: buildHandler(config, { secrets, log }), lines };
}

describe('discovery handler with SSM secrets', () => {
  it('fails closed while the parameter is missing, then works once it exists, reading SSM once', async () => {
    ssm.delete(PARAM);
    ssm.calls.length = 0;
    const { handle, lines } = handler();
    const apps0 = asg.apps.length;
    const tokens0 = asg.tokenRequests.length;

    const r1 = await handle(event);
    expect(r1.statusCode).toBe(503);
    expect(JSON.parse(r1.body as string)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(r1.body).not.toContain(PARAM); // the parameter name is logged, never sent
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'secret unavailable', parameter: PARAM }),
    );
    expect({ apps: asg.apps.length, tokens: asg.tokenRequests.length }).toEqual({
      apps: apps0,
      tokens: tokens0,
    });

    ssm.set(PARAM, { value: 'from-ssm' });
    const r2 = await handle(event);
    expect(r2.statusCode).toBe(201);
    const r3 = await handle(event);
    expect(r3.statusCode).toBe(201);
    expect(asg.apps.length).toBe(apps0 + 2);
    // Every SSM call decrypted, and once loaded the secret was not read again.
    expect(ssm.calls.every((c) => c.withDecryption && c.names.join() === PARAM)).toBe(true);
    const callsAfterLoad = ssm.calls.length;
    await handle(event);
    expect(ssm.calls.length).toBe(callsAfterLoad);
  });

  it('fails closed when reading the parameter is denied', async () => {
    ssm.set(PARAM, { value: 'from-ssm' });
    ssm.denied.add(PARAM);
    try {
      const { handle, lines } = handler();
      const apps0 = asg.apps.length;
      const r = await handle(event);
      expect(r.statusCode).toBe(503);
      expect(lines).toContainEqual(
        expect.objectContaining({ parameter: PARAM, reason: 'AccessDeniedException' }),
      );
      expect(asg.apps.length).toBe(apps0);
    } finally {
      ssm.denied.clear();
    }
  });
});
