/** The bench's printed table: each figure, its ratio to the baseline measured in the same run, and the targets. */
import type { BenchResult } from './run.ts';

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : String(n));

export interface Target {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  readonly unit: string;
  readonly inclusive: boolean;
  readonly met: boolean;
}

/** The issue's targets, each as `value < limit` (or ≤), from the figures of this run. */
export function targets(r: BenchResult): Target[] {
  const t = (name: string, value: number, limit: number, unit: string, inclusive = false): Target => ({
    name,
    value,
    limit,
    unit,
    inclusive,
    met: inclusive ? value <= limit : value < limit,
  });
  const seq = r.sequential;
  return [
    t('handler p50 / direct p50 (Lambda path)', r.handler.handler.p50 / r.handler.direct.p50, 2.2, '×'),
    t('proxy via local runner p50 / direct p50', seq.proxy.p50 / seq.direct.p50, 2.2, '×'),
    t('handler CPU per request (Lambda path)', r.handler.handler.cpuMsPerRequest, 0.26, 'ms'),
    t('proxy process CPU per request (runner + handler)', r.cpu.proxyMsPerRequest, 0.26, 'ms'),
    t(
      'proxy via local runner p50 / bare pass-through p50',
      seq.proxy.p50 / seq.passthrough.p50,
      1.25,
      '×',
      true,
    ),
    t(
      'proxy bundle first response / floor',
      r.cold.proxy.firstResponseMs / r.cold.floorStreaming.firstResponseMs,
      1.2,
      '×',
      true,
    ),
    t(
      'discovery bundle first response / floor',
      r.cold.discovery.firstResponseMs / r.cold.floorBuffered.firstResponseMs,
      1.2,
      '×',
      true,
    ),
  ];
}

export function table(r: BenchResult): string {
  const rows: string[][] = [];
  const seq = r.sequential;
  const lat = (name: string, s: { p50: number; p95: number; p99: number }, base: number) =>
    rows.push([name, `${f(s.p50)} / ${f(s.p95)} / ${f(s.p99)} ms`, `${f(s.p50 / base)}×`]);
  const d = seq.direct.p50;
  lat('tools/call sequential, direct', seq.direct, d);
  lat('tools/call sequential, bare pass-through', seq.passthrough, d);
  lat('tools/call sequential, proxy (local runner)', seq.proxy, d);
  const hd = r.handler.direct.p50;
  lat('in-process: direct (undici)', r.handler.direct, hd);
  lat('in-process: Lambda handler (index.ts)', r.handler.handler, hd);
  lat('in-process: core only (createProxy)', r.handler.core, hd);
  const tp = r.throughput;
  for (const k of ['direct', 'passthrough', 'proxy'] as const)
    rows.push([
      `throughput at ${r.params.concurrency} concurrent, ${k}`,
      `${f(tp[k], 0)} req/s`,
      `${f(tp.direct / tp[k])}× slower`,
    ]);
  rows.push(['CPU per request, bare pass-through process', `${f(r.cpu.passthroughMsPerRequest, 3)} ms`, '']);
  rows.push(['CPU per request, proxy process (runner + handler)', `${f(r.cpu.proxyMsPerRequest, 3)} ms`, '']);
  rows.push([
    'CPU per request, Lambda handler in-process',
    `${f(r.handler.handler.cpuMsPerRequest, 3)} ms`,
    `(direct client: ${f(r.handler.direct.cpuMsPerRequest, 3)} ms)`,
  ]);
  rows.push(['CPU per request, core in-process', `${f(r.handler.core.cpuMsPerRequest, 3)} ms`, '']);
  const sd = r.sse.direct.p50;
  for (const k of ['direct', 'passthrough', 'proxy'] as const)
    lat(`SSE emit → receive (${r.sse[k].n} events), ${k}`, r.sse[k], sd);
  const mb = (b: number) => `${f(b / 2 ** 20, 1)} MB`;
  for (const k of ['passthrough', 'proxy'] as const) {
    const m = r.rss[k];
    rows.push([
      `RSS ${k}: idle → after ${r.params.rssRequests} req → ${r.params.openStreams} open streams`,
      `${mb(m.idle)} → ${mb(m.afterRequests)} → ${mb(m.withStreams)}`,
      '',
    ]);
  }
  rows.push(['JWT verify, warm JWKS: ours (jose)', `${f(r.jwt.oursOpsPerSec, 0)} ops/s`, '']);
  rows.push([
    'JWT verify, warm JWKS: aws-jwt-verify',
    `${f(r.jwt.awsJwtVerifyOpsPerSec, 0)} ops/s`,
    `${f(r.jwt.oursOpsPerSec / r.jwt.awsJwtVerifyOpsPerSec)}× ours/theirs`,
  ]);
  const c = r.cold;
  for (const [k, floor] of [
    ['floorStreaming', c.floorStreaming],
    ['proxy', c.floorStreaming],
    ['floorBuffered', c.floorBuffered],
    ['discovery', c.floorBuffered],
  ] as const) {
    const v = c[k];
    rows.push([
      `cold ${k} (median of ${v.processes}): init / start → first response`,
      `${f(v.initMs, 1)} / ${f(v.firstResponseMs, 1)} ms`,
      `${f(v.firstResponseMs / floor.firstResponseMs)}× floor`,
    ]);
  }
  rows.push(['bundle bytes: proxy / discovery', `${c.bundleBytes.proxy} / ${c.bundleBytes.discovery}`, '']);
  const tg = targets(r)
    .map(
      (x) =>
        `| ${x.name} | ${f(x.value, 3)} ${x.unit} | ${x.inclusive ? '≤' : '<'} ${x.limit} | ${x.met ? 'met' : 'MISSED'} |`,
    )
    .join('\n');
  return (
    `\n${r.params.smoke ? 'SMOKE RUN (tiny counts; figures are not meaningful)\n' : ''}` +
    `node ${r.env.node}, ${r.env.cpus} CPUs, load ${r.env.loadavg.map((x) => f(x)).join(' ')}\n\n` +
    `| figure | value | ratio |\n|---|---|---|\n${rows.map((x) => `| ${x.join(' | ')} |`).join('\n')}\n\n` +
    `| target | this run | limit | |\n|---|---|---|---|\n${tg}\n`
  );
}
