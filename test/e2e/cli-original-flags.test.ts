/**
 * The original's command-line flags in `npm start` (docs/migration.md): `--debug` logs at level
 * debug, `--stdio` switches the config to its stdio server (`transport_mode: stdio`,
 * `stdio.enabled: true`, as the original's flag does). `--demo` / `--asgardeo`:
 * test/discovery/core-cli.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { freePort } from '../helpers/net.ts';

let idp: TestIssuer;
beforeAll(async () => {
  idp = await startTestIssuer();
});
afterAll(async () => {
  await idp?.close();
});

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'flags-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

describe('--debug', () => {
  it('logs at level debug (the parsed config), and nothing at debug without it', async () => {
    for (const debug of [true, false]) {
      const port = await freePort();
      const args = ['--upstream', 'http://localhost:1', '--idp-issuer', idp.issuer, '--port', String(port)];
      const run = startCli(debug ? ['--debug', ...args] : args);
      try {
        await run.waitFor(`http://localhost:${port}/mcp`);
        const lines = run
          .output()
          .split('\n')
          .filter((l) => l.includes('"level":"DEBUG"'));
        if (debug) expect(lines.join('\n')).toContain(`"upstream":"http://localhost:1"`);
        else expect(lines).toEqual([]);
      } finally {
        await run.stop();
      }
    }
  });
});

describe("--demo with the original's sample config.yaml, unchanged", () => {
  it('starts: the demo block as provider asgardeo, its keys honoured, the ones without effect named', async () => {
    const port = await freePort();
    const sample = join(import.meta.dirname, '../fixtures/original/config.yaml');
    const run = startCli(['--demo', '--config', sample, '--port', String(port)], { LOG_LEVEL: 'info' });
    try {
      await run.waitFor(`http://localhost:${port}/mcp`);
      const out = run.output();
      expect(out).toContain('Token issuer     https://api.asgardeo.io/t/openmcpauthdemo/oauth2/token');
      expect(out).toContain(
        '"message":"config keys of the original Go proxy have no effect here","keys":["port","stdio"]',
      );
      expect(out).toContain('`protected_resource_metadata.bearer_methods_supported` lists body and query');
      expect(out).not.toMatch(/"level":"(WARN|ERROR)"/);
    } finally {
      await run.stop();
    }
  });
});

describe('--stdio', () => {
  it("switches a config's stdio block on (its transport_mode and stdio.enabled say otherwise)", async () => {
    const port = await freePort();
    const file = configFile(`listen_port: ${port}
base_url: http://localhost:8000
transport_mode: sse
stdio:
  enabled: false
  user_command: "npx --no mcp-server-everything stdio"
provider: oidc
default:
  base_url: ${idp.issuer}
`);
    const run = startCli(['--stdio', '--config', file]);
    try {
      await run.waitFor(`http://localhost:${port}/mcp`);
      expect(run.output()).toMatch(
        /Upstream {9}stdio: npx --no mcp-server-everything stdio \(one process per MCP session, bridged at 127\.0\.0\.1:\d+\)/,
      );
    } finally {
      await run.stop();
    }
  });

  it('without a stdio.user_command is refused, naming the key', async () => {
    const file = configFile(`provider: oidc\ndefault:\n  base_url: ${idp.issuer}\n`);
    const run = startCli(['--stdio', '--config', file]);
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe(
      'invalid config: `stdio.user_command` is required when `transport_mode` is "stdio": the command that starts the MCP server',
    );
  });
});
