/**
 * A CPU profile of one cold start of the proxy: the synthesized function's environment, the
 * proxy entry bundled like the deployed one but not minified (so profile.ts can name the module
 * of every sample), one fresh process from start to the first proxied response.
 *
 *   npx tsx bench/profile-cold.ts   → bench/results/profiles/cold/*.cpuprofile, summarized
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../lib/mcp-auth-proxy.ts';
import { startTestIssuer } from '../test/helpers/issuer.ts';
import { PROXY_HOST, synthBundles } from './cold.ts';
import { startChild } from './ipc.ts';
import { summarizeProfile } from './profile.ts';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'profiles', 'cold');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const idp = await startTestIssuer();
const upstream = await startChild<{ url: string }>('upstream.ts', {});
const { proxy } = synthBundles({
  provider: 'oidc',
  base_url: upstream.ready.url,
  default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
  deploy: { stack_name: 'BenchColdProfile', generate_signing_key: false },
});
const banner = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";
const esm = {
  bundle: true,
  mainFields: ['module', 'main'],
  format: 'esm' as const,
  platform: 'node' as const,
};
await build({
  ...esm,
  entryPoints: [join(PROJECT_ROOT, 'functions/proxy/index.ts')],
  outfile: join(dir, 'proxy.mjs'),
  banner: { js: banner },
});
await build({
  ...esm,
  entryPoints: [join(PROJECT_ROOT, 'bench/cold-child.ts')],
  outfile: join(dir, 'child.mjs'),
});
const event = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/proxy-post-mcp-no-token.json'), 'utf8'));
const token = await idp.sign({ aud: `https://${PROXY_HOST}/mcp`, exp: Math.floor(Date.now() / 1000) + 3600 });
event.headers.authorization = `Bearer ${token}`;
writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
// Not spawnSync: the issuer and the upstream answer from this process's event loop.
const cp = spawn(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    '--cpu-prof-interval=100',
    join(dir, 'child.mjs'),
    join(dir, 'proxy.mjs'),
    'streaming',
    join(dir, 'event.json'),
    join(dir, 'result.json'),
  ],
  { env: { PATH: process.env.PATH, ...proxy.env }, stdio: ['ignore', 'ignore', 'inherit'] },
);
const status = await new Promise<number | null>((r) => cp.on('exit', r));
upstream.stop();
await idp.close();
process.stdout.write(`exit ${status}: ${readFileSync(join(dir, 'result.json'), 'utf8')}\n`);
for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')))
  process.stdout.write(summarizeProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')), 40));
