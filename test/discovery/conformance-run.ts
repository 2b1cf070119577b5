/**
 * Runs the official `@modelcontextprotocol/conformance` authorization-server scenario
 * `authorization-server-metadata-endpoint` against the discovery function hosted by the local
 * runner (in front of the embedded demo IdP), for an issuer without a path (own origin, like a
 * Function URL) and one with a path (like a CloudFront path prefix).
 *
 *   npx tsx test/discovery/conformance-run.ts
 *
 * Not part of `npm test`: conformance 0.2.0-alpha.12 needs Node >= 22 (it imports
 * `fs.globSync`), so it is started through `npx -p node@22`, which needs the npm registry
 * (or a warm npx cache). Under Node >= 22 an installed `@modelcontextprotocol/conformance` is used
 * offline; CONFORMANCE_NODE (a Node >= 22 binary) and CONFORMANCE_BIN (its `dist/index.js`) select
 * them explicitly.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoIdp } from '../../bin/local/demo-idp.ts';
import { startLocalDiscovery } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { freePort } from '../helpers/net.ts';

const SCENARIO = 'authorization-server-metadata-endpoint';

/** An installed entry point is used when this Node can run it (>= 22); else npx fetches Node 22. */
function installedBin(): string | undefined {
  if (process.env.CONFORMANCE_BIN) return process.env.CONFORMANCE_BIN;
  const major = Number(process.versions.node.split('.')[0]);
  const entry = join(
    import.meta.dirname,
    '../../node_modules/@modelcontextprotocol/conformance/dist/index.js',
  );
  return major >= 22 && existsSync(entry) ? entry : undefined;
}

function runConformance(url: string): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  const bin = installedBin();
  const args = bin
    ? [bin, 'authorization', '--url', url, '--scenario', SCENARIO]
    : [
        '-y',
        '-p',
        'node@22',
        '-p',
        '@modelcontextprotocol/conformance@0.2.0-alpha.12',
        'conformance',
        'authorization',
        '--url',
        url,
        '--scenario',
        SCENARIO,
      ];
  const cmd = bin ? (process.env.CONFORMANCE_NODE ?? process.execPath) : 'npx';
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out, ms: Date.now() - started }));
  });
}

const idp = await startDemoIdp({ port: await freePort(), resourcePrefixes: ['http://localhost:8080'] });
let failed = false;
for (const variant of ['origin', 'path'] as const) {
  const port = await freePort();
  const issuer = variant === 'origin' ? `http://localhost:${port}` : `http://localhost:${port}/auth`;
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idp.port, registration_token: idp.registrationToken },
    base_url: 'http://localhost:1',
    discovery: { base_url: issuer },
  });
  const disc = await startLocalDiscovery(config, { port });
  const r = await runConformance(issuer);
  await disc.close();
  const lines = r.out.split('\n').filter((l) => !/EBADENGINE|npm warn/.test(l));
  process.stdout.write(
    `\n=== ${SCENARIO} against ${issuer} (exit ${r.code}, ${r.ms} ms)\n${lines.join('\n')}\n`,
  );
  if (r.code !== 0 || /FAIL/.test(r.out)) failed = true;
}
await idp.close();
process.exit(failed ? 1 : 0);
