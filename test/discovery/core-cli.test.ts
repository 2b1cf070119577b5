/**
 * The `npm start` CLI (bin/local.ts) hosts both functions on one origin: the proxy's PRM names
 * that origin as the authorization server, and the facade answers there. The original's
 * `--asgardeo` / `--demo` modes pick the matching config block.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliRun, startCli } from '../helpers/cli.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';
import { freePort } from '../helpers/net.ts';

const runs: CliRun[] = [];

afterEach(async () => {
  await Promise.all(runs.splice(0).map((r) => r.stop()));
});

function cli(args: string[]): CliRun {
  const run = startCli(args);
  runs.push(run);
  return run;
}

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-cli-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

const blocks = `
base_url: http://localhost:1
asgardeo:
  org_name: realorg
  client_id: real-m2m
  client_secret: real-secret
  api_base_url: http://127.0.0.1:9
demo:
  org_name: demoorg
  client_id: demo-m2m
  client_secret: demo-secret
  api_base_url: http://127.0.0.1:9
`;

const authorizeQuery = new URLSearchParams({
  response_type: 'code',
  client_id: 'c',
  redirect_uri: 'http://127.0.0.1:5000/cb',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
});

describe('npm start CLI: single origin, --asgardeo and --demo', () => {
  it('--demo: the `demo` block; 401 challenge, PRM lists the facade, the facade redirects to that org', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const run = cli(['--demo', '--config', configFile(blocks), '--port', String(port)]);
    await run.waitFor('mcpServers');
    expect(run.output()).toContain(`AS metadata      ${origin}/.well-known/oauth-authorization-server`);

    const mcp = await fetch(`${origin}/mcp`, { method: 'POST' });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    const prm = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm.authorization_servers).toEqual([origin]);
    const as = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json();
    expect(as.issuer).toBe(origin);

    const a = await authorizeWithConsent(`${origin}/authorize?${authorizeQuery}`);
    expect(a.status).toBe(302);
    expect(a.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:9\/t\/demoorg\/oauth2\/authorize\?/);
  });

  it('--asgardeo: the `asgardeo` block', async () => {
    const port = await freePort();
    const run = cli(['--asgardeo', '--config', configFile(blocks), '--port', String(port)]);
    await run.waitFor('mcpServers');
    const a = await authorizeWithConsent(`http://localhost:${port}/authorize?${authorizeQuery}`);
    expect(a.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:9\/t\/realorg\/oauth2\/authorize\?/);
  });

  it('--asgardeo without an `asgardeo` block, or with --demo: exit 2 with a clear message', async () => {
    const noBlock = cli(['--asgardeo', '--config', configFile('base_url: http://localhost:1\n')]);
    expect(await noBlock.exited).toBe(2);
    expect(noBlock.output()).toContain('--asgardeo needs an `asgardeo` block');
    const both = cli(['--asgardeo', '--demo', '--config', configFile(blocks)]);
    expect(await both.exited).toBe(2);
    expect(both.output()).toContain('--asgardeo and --demo are exclusive');
  });
});
