/**
 * `npm run bench` — what the proxy costs, as ratios against baselines measured in the same,
 * interleaved run: the upstream called directly, and a bare Node pass-through. Every part runs in
 * a process of its own on loopback (ipc.ts): the upstream, the pass-through, our proxy behind the
 * local Function URL emulation, and the Lambda handler called in-process (the runner is not on
 * the Lambda path, so the handler's own cost is measured apart). Then JWT verification, and the
 * cold path of the synthesized bundles in fresh processes (cold.ts). Writes the figures as JSON
 * (bench/results/) and prints a table with the targets of issue 12.
 *
 *   npm run bench [-- --smoke] [-- --out FILE]
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestIssuer } from '../test/helpers/issuer.ts';
import { coldBench, PROXY_HOST } from './cold.ts';
import { BODY, openStream, sequential, type Target, throughput } from './http-load.ts';
import { type Child, cpuMs, startChild, type Usage } from './ipc.ts';
import { jwtBench } from './jwt.ts';
import { table, targets } from './report.ts';
import type { Summary } from './stats.ts';

const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string' } },
});
const smoke = values.smoke === true;
const phase = (name: string) => process.stderr.write(`[bench] ${name}\n`);

/** Counts: the minimums, or tiny ones for the smoke run inside `npm test`. */
const P = smoke
  ? {
      smoke,
      sequential: 20,
      concurrency: 4,
      throughput: 40,
      sseEvents: 20,
      rssRequests: 20,
      openStreams: 5,
      jwt: 20,
      coldRounds: 1,
    }
  : {
      smoke,
      sequential: 2000,
      concurrency: 16,
      throughput: 4000,
      sseEvents: 10_000,
      rssRequests: 1000,
      openStreams: 100,
      jwt: 3000,
      coldRounds: 15,
    };

type HandlerFigures = Record<'direct' | 'handler' | 'core', Summary & { cpuMsPerRequest: number }>;

async function rssFigures(child: Child<unknown>, t: Target) {
  const idle = (await child.usage()).rss;
  await throughput(t, P.rssRequests, P.concurrency);
  const afterRequests = (await child.usage()).rss;
  const open = await Promise.all(Array.from({ length: P.openStreams }, (_, i) => openStream(t, `idle-${i}`)));
  const withStreams = (await child.usage()).rss;
  for (const s of open) s.close();
  return { idle, afterRequests, withStreams };
}

/** SSE: one stream per target; the upstream emits on one at a time, in 10 rounds. */
async function sseFigures(upstream: Child<unknown>, targets: Target[]) {
  const streams = await Promise.all(targets.map((t) => openStream(t, t.name)));
  const per = Math.max(1, Math.floor(P.sseEvents / 10));
  for (let round = 0; round < 10; round++) {
    for (let j = 0; j < targets.length; j++) {
      const k = (round + j) % targets.length;
      await upstream.call('emit', { id: targets[k]!.name, n: per });
      await streams[k]!.until((round + 1) * per);
    }
  }
  for (const s of streams) s.close();
  const { summarize } = await import('./stats.ts');
  return Object.fromEntries(targets.map((t, k) => [t.name, summarize(streams[k]!.delays)])) as Record<
    string,
    Summary
  >;
}

async function main() {
  const idp = await startTestIssuer();
  const upstream = await startChild<{ url: string }>('upstream.ts', {});
  const config = {
    provider: 'oidc',
    base_url: upstream.ready.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { audience: ['bench'] },
    stream: { max_per_subject: 1000 },
  };
  const token = await idp.sign({ aud: 'bench', exp: Math.floor(Date.now() / 1000) + 3600 });
  const [pass, proxy, handler] = await Promise.all([
    startChild<{ url: string }>('passthrough.ts', { upstream: upstream.ready.url }),
    startChild<{ url: string }>('proxy-host.ts', { config }),
    startChild('handler-host.ts', { config, upstream: upstream.ready.url, token, body: BODY }),
  ]);
  const tg: Target[] = [
    { name: 'direct', url: upstream.ready.url, headers: {} },
    { name: 'passthrough', url: pass.ready.url, headers: {} },
    { name: 'proxy', url: proxy.ready.url, headers: { authorization: `Bearer ${token}` } },
  ];
  phase('warm-up');
  // Warm-up: JIT, the JWKS cache, keep-alive pools.
  await sequential(tg, Math.min(200, P.sequential));
  await handler.call('run', { n: Math.min(200, P.sequential) });

  phase('sequential');
  const before: Usage[] = await Promise.all([pass.usage(), proxy.usage()]);
  const seq = await sequential(tg, P.sequential);
  const after: Usage[] = await Promise.all([pass.usage(), proxy.usage()]);
  const cpu = {
    passthroughMsPerRequest: cpuMs(before[0]!, after[0]!) / P.sequential,
    proxyMsPerRequest: cpuMs(before[1]!, after[1]!) / P.sequential,
  };
  phase('handler in-process');
  const handlerFigures = await handler.call<HandlerFigures>('run', { n: P.sequential });
  handler.stop();

  phase('throughput');
  const tp: Record<string, number> = { direct: 0, passthrough: 0, proxy: 0 };
  for (let round = 0; round < 4; round++)
    for (const t of tg) tp[t.name]! += (await throughput(t, Math.ceil(P.throughput / 4), P.concurrency)) / 4;

  phase('sse');
  const sse = await sseFigures(upstream, tg);
  phase('rss');
  const rss = { passthrough: await rssFigures(pass, tg[1]!), proxy: await rssFigures(proxy, tg[2]!) };
  for (const c of [pass, proxy, upstream]) c.stop();

  phase('jwt');
  const jwt = await jwtBench({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: 'bench', token }, P.jwt);

  phase('cold');
  const coldUpstream = await startChild<{ url: string }>('upstream.ts', {});
  const cold = await coldBench({
    raw: {
      provider: 'oidc',
      base_url: coldUpstream.ready.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      deploy: { stack_name: 'BenchCold', generate_signing_key: false },
    },
    token: await idp.sign({ aud: `https://${PROXY_HOST}/mcp`, exp: Math.floor(Date.now() / 1000) + 3600 }),
    rounds: P.coldRounds,
  });
  coldUpstream.stop();
  await idp.close();

  const result = {
    date: new Date().toISOString(),
    params: P,
    env: { node: process.version, cpus: cpus().length, loadavg: loadavg() },
    sequential: seq as Record<'direct' | 'passthrough' | 'proxy', Summary>,
    handler: handlerFigures,
    cpu,
    throughput: tp as Record<'direct' | 'passthrough' | 'proxy', number>,
    sse: sse as Record<'direct' | 'passthrough' | 'proxy', Summary>,
    rss,
    jwt,
    cold,
  };
  const full = { ...result, targets: targets(result as BenchResult) };
  const out =
    values.out ??
    join(
      dirname(fileURLToPath(import.meta.url)),
      'results',
      smoke ? 'smoke.json' : `bench-${result.date.replace(/[:.]/g, '-')}.json`,
    );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(full, null, 2)}\n`);
  process.stdout.write(`${table(full as BenchResult)}\nwritten: ${out}\n`);
}

export type BenchResult = {
  params: typeof P;
  env: { node: string; cpus: number; loadavg: number[] };
  sequential: Record<'direct' | 'passthrough' | 'proxy', Summary>;
  handler: HandlerFigures;
  cpu: { passthroughMsPerRequest: number; proxyMsPerRequest: number };
  throughput: Record<'direct' | 'passthrough' | 'proxy', number>;
  sse: Record<'direct' | 'passthrough' | 'proxy', Summary>;
  rss: Record<'passthrough' | 'proxy', { idle: number; afterRequests: number; withStreams: number }>;
  jwt: Awaited<ReturnType<typeof jwtBench>>;
  cold: Awaited<ReturnType<typeof coldBench>>;
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
      process.exit(1);
    },
  );
}
