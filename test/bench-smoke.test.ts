/**
 * `npm run bench -- --smoke` (tiny counts) end to end: every part starts, every figure of the
 * JSON it writes is there and is a finite number, and the targets are listed. Timings are
 * reported by the bench, never asserted here.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { PROJECT_ROOT } from '../lib/mcp-auth-proxy.ts';

const SUMMARY = { n: 0, p50: 0, p95: 0, p99: 0, mean: 0 };
const COLD = { processes: 0, bootMs: 0, initMs: 0, firstResponseMs: 0, wallMs: 0 };
const RSS = { idle: 0, afterRequests: 0, withStreams: 0 };

/** The expected shape: every key, with a number wherever the bench reports a figure. */
const SHAPE = {
  sequential: { direct: SUMMARY, passthrough: SUMMARY, proxy: SUMMARY },
  handler: {
    direct: { ...SUMMARY, cpuMsPerRequest: 0 },
    handler: { ...SUMMARY, cpuMsPerRequest: 0 },
    core: { ...SUMMARY, cpuMsPerRequest: 0 },
  },
  cpu: { passthroughMsPerRequest: 0, proxyMsPerRequest: 0 },
  throughput: { direct: 0, passthrough: 0, proxy: 0 },
  sse: { direct: SUMMARY, passthrough: SUMMARY, proxy: SUMMARY },
  rss: { passthrough: RSS, proxy: RSS },
  jwt: { oursOpsPerSec: 0, awsJwtVerifyOpsPerSec: 0 },
  cold: {
    synthMs: 0,
    bundleBytes: { proxy: 0, discovery: 0 },
    floorStreaming: COLD,
    proxy: COLD,
    floorBuffered: COLD,
    discovery: COLD,
  },
};

/** Paths (a.b.c) of the shape's numbers whose value in `actual` is missing or not finite. */
function badFigures(shape: unknown, actual: unknown, path = ''): string[] {
  if (typeof shape === 'number') return typeof actual === 'number' && Number.isFinite(actual) ? [] : [path];
  return Object.entries(shape as Record<string, unknown>).flatMap(([k, v]) =>
    badFigures(v, (actual as Record<string, unknown> | undefined)?.[k], path ? `${path}.${k}` : k),
  );
}

it('the smoke run writes every figure as a finite number, and the targets', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-smoke-')), 'smoke.json');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
    cwd: PROJECT_ROOT,
    maxBuffer: 16 * 2 ** 20,
  });
  const result = JSON.parse(readFileSync(out, 'utf8'));
  expect(badFigures(SHAPE, result)).toEqual([]);
  expect(result.params.smoke).toBe(true);
  expect(result.sequential.proxy.n).toBe(result.params.sequential);
  expect(Object.values(result.cold.proxyBundleComposition).every((n) => Number.isFinite(n))).toBe(true);
  expect(result.targets.length).toBe(7);
  for (const t of result.targets) {
    expect(t).toMatchObject({ name: expect.any(String), met: expect.any(Boolean) });
    expect(Number.isFinite(t.value) && Number.isFinite(t.limit)).toBe(true);
  }
}, 300_000);
