/**
 * CPU profiles of the warm path: the Lambda handler in-process (handler-host.ts) and the proxy
 * behind the local runner (proxy-host.ts), each under `requests` sequential `tools/call`s, written
 * to bench/results/profiles/ and summarized (profile.ts).
 *
 *   npx tsx bench/profile-warm.ts [--requests 3000]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestIssuer } from '../test/helpers/issuer.ts';
import { BODY, sequential } from './http-load.ts';
import { startChild } from './ipc.ts';
import { summarizeProfile } from './profile.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '3000' } } });
const n = Number(values.requests);
const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'profiles');

const idp = await startTestIssuer();
const upstream = await startChild<{ url: string }>('upstream.ts', {});
const config = {
  provider: 'oidc',
  base_url: upstream.ready.url,
  default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
  token: { audience: ['bench'] },
};
const token = await idp.sign({ aud: 'bench', exp: Math.floor(Date.now() / 1000) + 3600 });
for (const part of ['handler', 'proxy'] as const) {
  const out = join(dir, part);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  process.env.BENCH_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${out}`;
  if (part === 'handler') {
    const h = await startChild('handler-host.ts', {
      config,
      upstream: upstream.ready.url,
      token,
      body: BODY,
    });
    await h.call('run', { n });
    h.stop();
  } else {
    const p = await startChild<{ url: string }>('proxy-host.ts', { config });
    await sequential([{ name: 'proxy', url: p.ready.url, headers: { authorization: `Bearer ${token}` } }], n);
    p.stop();
  }
  await new Promise((r) => setTimeout(r, 1500));
  for (const f of readdirSync(out)) {
    const text = summarizeProfile(JSON.parse(readFileSync(join(out, f), 'utf8')), 30);
    process.stdout.write(`== ${part}: ${f}\n${text}\n`);
  }
}
upstream.stop();
await idp.close();
