/**
 * The MCP Inspector CLI with a bearer token (client_credentials from the demo IdP, for the
 * endpoint it calls), over Streamable HTTP and legacy SSE, against the demo CLI and the
 * two-origin set-up; and without a token it is refused with the proxy's challenge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectorCli } from '../helpers/inspector.ts';
import { clientCredentialsToken } from '../helpers/oauth-client.ts';
import { type Setup, type SetupKind, startSetup } from '../helpers/setups.ts';
import { recordTiming } from '../helpers/timings.ts';

const token = (setup: Setup, resource: string) =>
  clientCredentialsToken(setup.idpIssuer, setup.cliClient, resource);

describe.each(['demo', 'two-origin'] as SetupKind[])(
  'MCP Inspector CLI, %s',
  { timeout: 180_000 },
  (kind) => {
    let setup: Setup;
    beforeAll(async () => {
      setup = await startSetup(kind);
    });
    afterAll(() => setup?.close());

    for (const [transport, path] of [
      ['http', '/mcp'],
      ['sse', '/sse'],
    ] as const) {
      it(`${transport}: tools/list and tools/call echo with a bearer token`, async () => {
        const url = `${setup.proxyOrigin}${path}`;
        const auth = `Authorization: Bearer ${await token(setup, url)}`;
        const list = await inspectorCli([
          url,
          '--transport',
          transport,
          '--header',
          auth,
          '--method',
          'tools/list',
        ]);
        expect(list.code, list.stderr).toBe(0);
        const tools = (JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
        expect(tools.sort()).toEqual(['countdown', 'echo']);
        const call = await inspectorCli([
          url,
          '--transport',
          transport,
          '--header',
          auth,
          '--method',
          'tools/call',
          '--tool-name',
          'echo',
          '--tool-arg',
          'message=from the inspector',
        ]);
        expect(call.code, call.stderr).toBe(0);
        expect(JSON.parse(call.stdout).content).toEqual([{ type: 'text', text: 'from the inspector' }]);
        recordTiming(`inspector-cli ${transport} ${kind}: tools/call`, call.ms);
      });
    }

    it('without a token: refused (exit 3, auth required)', async () => {
      const run = await inspectorCli([
        `${setup.proxyOrigin}/mcp`,
        '--transport',
        'http',
        '--method',
        'tools/list',
      ]);
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stderr).toContain('auth_required');
    });
  },
);
