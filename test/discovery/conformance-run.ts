/**
 * Runs the official `@modelcontextprotocol/conformance` authorization-server scenarios against the
 * discovery function hosted by the local runner (in front of the embedded demo IdP, relay and
 * Client ID Metadata Documents on, as `npm start` runs it), for an issuer without a path (own
 * origin, like a Function URL) and one with a path (like a CloudFront path prefix):
 * - `authorization-server-metadata-endpoint`: every check SUCCESS, no WARNING;
 * - `authorization-code-grant`: a client registered at the facade (DCR, redirect URI
 *   `http://127.0.0.1:<port>/callback`), the scenario prints the authorization URL and a person in
 *   Chromium (test/helpers/browser.ts) allows it on the consent page and signs in at the IdP; the
 *   scenario checks the authorization response (code, state, `iss`) and the token response.
 *
 *   npx tsx test/discovery/conformance-run.ts
 *
 * Not part of `npm test`: conformance 0.2.0-alpha.12 needs Node >= 22 (it imports
 * `fs.globSync`), so it is started through `npx -p node@22`, which needs the npm registry
 * (or a warm npx cache). Under Node >= 22 an installed `@modelcontextprotocol/conformance` is used
 * offline; CONFORMANCE_NODE (a Node >= 22 binary) and CONFORMANCE_BIN (its `dist/index.js`) select
 * them explicitly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoIdp } from '../../bin/local/demo-idp.ts';
import { startLocalDiscovery } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { BrowserUser, launchChromium } from '../helpers/browser.ts';
import { freePort } from '../helpers/net.ts';

const SCENARIOS = ['authorization-server-metadata-endpoint', 'authorization-code-grant'];
const RESOURCE = 'http://localhost:8080/mcp';

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

interface Run {
  readonly code: number;
  readonly out: string;
  readonly ms: number;
}

/** Every authorization scenario (the code grant needs the metadata one's result), with our client. */
function runConformance(
  url: string,
  client: { id: string; port: number; outputDir: string },
  onAuthorizationUrl: (u: string) => void,
): Promise<Run> {
  const started = Date.now();
  const bin = installedBin();
  const scenarioArgs = [
    'authorization',
    '--url',
    url,
    '--client-id',
    client.id,
    '--port',
    String(client.port),
    '--resource',
    RESOURCE,
    '--output-dir',
    client.outputDir,
  ];
  const args = bin
    ? [bin, ...scenarioArgs]
    : [
        '-y',
        '-p',
        'node@22',
        '-p',
        '@modelcontextprotocol/conformance@0.2.0-alpha.12',
        'conformance',
        ...scenarioArgs,
      ];
  const cmd = bin ? (process.env.CONFORMANCE_NODE ?? process.execPath) : 'npx';
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let asked = false;
    const take = (d: Buffer) => {
      out += d;
      const m = /^(https?:\/\/\S+\/authorize\?\S+)$/m.exec(out);
      if (m && !asked) {
        asked = true;
        onAuthorizationUrl(m[1]!);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('close', (code) => resolve({ code: code ?? 1, out, ms: Date.now() - started }));
  });
}

/** Every check the scenarios saved (`--output-dir`), one line each. */
function checkLines(dir: string): string[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('checks.json'),
  );
  return files.flatMap((f) =>
    (
      JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        id: string;
        status: string;
        description: string;
        errorMessage?: string;
      }[]
    ).map((c) => `  [${c.id}] ${c.status} ${c.description}${c.errorMessage ? ` — ${c.errorMessage}` : ''}`),
  );
}

/** A public client registered at the facade for the scenario's loopback callback. */
async function registerClient(issuer: string, port: number): Promise<string> {
  const res = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'MCP conformance (authorization-code-grant)',
      redirect_uris: [`http://127.0.0.1:${port}/callback`],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

const browser = await launchChromium();
let failed = false;
for (const variant of ['origin', 'path'] as const) {
  const port = await freePort();
  const issuer = variant === 'origin' ? `http://localhost:${port}` : `http://localhost:${port}/auth`;
  const idp = await startDemoIdp({
    port: await freePort(),
    resourcePrefixes: ['http://localhost:8080'],
    cimdClient: { clientId: 'mcp-facade-cimd', redirectUri: `${issuer}/callback` },
  });
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idp.port, registration_token: idp.registrationToken },
    base_url: 'http://localhost:1',
    discovery: {
      base_url: issuer,
      signing_key: randomBytes(32).toString('base64url'),
      cimd_idp_client_id: 'mcp-facade-cimd',
    },
  });
  const disc = await startLocalDiscovery(config, { port });
  const callbackPort = await freePort();
  const clientId = await registerClient(issuer, callbackPort);
  const user = await BrowserUser.open(browser);
  let signIn: Promise<unknown> = Promise.resolve();
  const outputDir = mkdtempSync(join(tmpdir(), 'conformance-'));
  const r = await runConformance(issuer, { id: clientId, port: callbackPort, outputDir }, (url) => {
    // The person's part: consent page, then the IdP's sign-in page; the browser ends at the
    // scenario's callback server.
    signIn = user
      .signIn(url, { ...idp.user, doneAt: `http://127.0.0.1:${callbackPort}/callback` })
      .catch((e) => {
        process.stdout.write(`browser sign-in failed: ${e}\n`);
        failed = true;
      });
  });
  await signIn;
  await user.close();
  await disc.close();
  await idp.close();
  const lines = r.out.split('\n').filter((l) => !/EBADENGINE|npm warn/.test(l));
  lines.push('Checks:', ...checkLines(outputDir));
  rmSync(outputDir, { recursive: true, force: true });
  process.stdout.write(
    `\n=== ${SCENARIOS.join(', ')} against ${issuer} (exit ${r.code}, ${r.ms} ms)\n${lines.join('\n')}\n`,
  );
  // Every scenario ran and passed, with no warning and nothing skipped.
  const passed = SCENARIOS.every((sc) => new RegExp(`✓ ${sc}: [1-9]\\d* passed, 0 failed`).test(r.out));
  if (r.code !== 0 || !passed || /FAILURE|WARNING|SKIPPED/.test(r.out)) failed = true;
}
await browser.close();
process.exit(failed ? 1 : 0);
