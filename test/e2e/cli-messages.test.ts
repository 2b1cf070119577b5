/**
 * What `npm start` says when something is in the way: one line naming the problem and the flag
 * that fixes it, and no warnings when nothing is wrong.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/net.ts';

const LOOKS_LIKE_FAILURE = /WARNING|Warning|ERROR|Error|\n\s+at /;

describe('npm start messages', () => {
  it('--help prints the usage and nothing that looks like a failure', async () => {
    const run = startCli(['--help']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('--idp-port N');
    expect(run.output()).not.toMatch(LOOKS_LIKE_FAILURE);
  });

  it('--upstream without --idp-issuer is refused, saying what is missing', async () => {
    const run = startCli(['--upstream', 'http://localhost:3000']);
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe(
      '--upstream needs --idp-issuer URL (the issuer of the access tokens your MCP clients present), or a --config file naming the identity provider',
    );
  });

  it('a port in use is one line naming the port, what wanted it and the flag that moves it', async () => {
    const busy = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', () => r()));
    try {
      const run = startCli([
        '--port',
        String(port),
        '--mcp-port',
        String(await freePort()),
        '--idp-port',
        String(await freePort()),
      ]);
      expect(await run.exited).toBe(2);
      expect(run.output().trim()).toBe(
        `port ${port} (auth proxy) is in use: stop what runs there, or choose another with --port N`,
      );
    } finally {
      busy.close();
    }
  });

  it('the demo starts on the ports it is given, quietly', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const run = startCli([
      '--port',
      String(ports[0]),
      '--mcp-port',
      String(ports[1]),
      '--idp-port',
      String(ports[2]),
    ]);
    try {
      await run.waitFor('Press Ctrl+C to stop.');
      const out = run.output();
      expect(out).toContain(`Streamable HTTP  http://localhost:${ports[0]}/mcp`);
      expect(out).toContain(`Demo MCP server   http://localhost:${ports[1]}/mcp`);
      expect(out).toContain(`Demo identity provider  http://localhost:${ports[2]}`);
      expect(out).not.toMatch(LOOKS_LIKE_FAILURE);
    } finally {
      await run.stop();
    }
  });

  it('a bad port number is refused', async () => {
    const run = startCli(['--idp-port', 'nine']);
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe('--idp-port must be a port number (got "nine")');
  });
});
