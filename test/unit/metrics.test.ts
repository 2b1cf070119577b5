/**
 * EMF documents (functions/shared/metrics.ts) against the CloudWatch Embedded Metric Format
 * specification, and the invocation fields and debug sampling of every log line (shared/log.ts).
 */
import { describe, expect, it } from 'vitest';
import { serve } from '../../functions/shared/endpoint.ts';
import { DependencyError, errorResponse, forbidden } from '../../functions/shared/errors.ts';
import { configureLogging, createLogger, runInvocation, silentLogger } from '../../functions/shared/log.ts';
import { createMetrics, emfDocument, METRICS_NAMESPACE } from '../../functions/shared/metrics.ts';

const UNITS = new Set(['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Count', 'Percent']);

/** The specification's MUSTs for one document; returns what is wrong (empty: valid). */
function emfViolations(doc: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!aws || typeof aws !== 'object') return ['no _aws object'];
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp) || aws.Timestamp < 1e12)
    bad.push('_aws.Timestamp is not epoch milliseconds');
  if (!Array.isArray(aws.CloudWatchMetrics) || !aws.CloudWatchMetrics.length)
    return [...bad, 'no directives'];
  for (const d of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    if (typeof d.Namespace !== 'string' || !d.Namespace.length || d.Namespace.length > 1024)
      bad.push('Namespace');
    if (!Array.isArray(d.Dimensions)) bad.push('Dimensions is not an array');
    for (const set of (d.Dimensions as unknown[]) ?? []) {
      if (!Array.isArray(set) || set.length > 30) bad.push('a dimension set is not an array of ≤ 30 names');
      for (const name of (set as unknown[]) ?? [])
        if (typeof doc[name as string] !== 'string') bad.push(`dimension ${name} has no string member`);
    }
    if (!Array.isArray(d.Metrics) || d.Metrics.length > 100) bad.push('Metrics is not an array of ≤ 100');
    for (const m of (d.Metrics as { Name?: unknown; Unit?: unknown }[]) ?? []) {
      if (typeof m.Name !== 'string' || !m.Name.length) bad.push('a metric without Name');
      if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) bad.push(`unit ${m.Unit}`);
      if (typeof doc[m.Name as string] !== 'number') bad.push(`metric ${m.Name} has no numeric value`);
    }
  }
  return bad;
}

const collect = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, sink: (l: string) => lines.push(JSON.parse(l)) };
};

describe('EMF documents', () => {
  it('every metric the functions emit is a valid document', () => {
    const { lines, sink } = collect();
    const m = createMetrics('proxy', sink, 'my-stack-ProxyFunction');
    m.request(401, 'invalid_token');
    m.upstreamLatency(12);
    m.stream(1500, 2048, 'upstream-end');
    m.jwksRefresh(true);
    m.jwksRefresh(false);
    m.dependencyError('identity provider');
    expect(lines).toHaveLength(6);
    for (const doc of lines) expect(emfViolations(doc)).toEqual([]);
  });

  it('a request is counted by function, and by status and decision', () => {
    const doc = emfDocument('fn', [{ name: 'Requests', unit: 'Count', value: 1 }], {
      Status: '403',
      Decision: 'insufficient_scope',
    });
    expect(doc).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [['FunctionName'], ['FunctionName', 'Status', 'Decision']],
            Metrics: [{ Name: 'Requests', Unit: 'Count' }],
          },
        ],
      },
      FunctionName: 'fn',
      Status: '403',
      Decision: 'insufficient_scope',
      Requests: 1,
    });
  });

  it('the namespace is fixed and the function dimension is the Lambda function name', () => {
    const { lines, sink } = collect();
    const saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'prod-McpAuthProxyProxyFunction-abc';
    try {
      createMetrics('proxy', sink).upstreamLatency(3);
    } finally {
      if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      else process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
    }
    expect(lines[0]).toMatchObject({
      FunctionName: 'prod-McpAuthProxyProxyFunction-abc',
      UpstreamLatency: 3,
      _aws: { CloudWatchMetrics: [{ Namespace: 'McpAuthProxy', Dimensions: [['FunctionName']] }] },
    });
    expect(lines[0]).not.toHaveProperty('level');
  });

  it('the validator itself catches a document missing its values', () => {
    const doc = emfDocument('fn', [{ name: 'Requests', unit: 'Count', value: 1 }], { Status: '200' });
    delete doc.Requests;
    delete doc.Status;
    expect(emfViolations(doc)).toEqual([
      'dimension Status has no string member',
      'metric Requests has no numeric value',
    ]);
    expect(emfViolations({ ...doc, _aws: { CloudWatchMetrics: [] } })).toEqual([
      '_aws.Timestamp is not epoch milliseconds',
      'no directives',
    ]);
  });
});

describe('log lines of an invocation', () => {
  it('carry the request id and the cold-start flag, and so do its metrics', async () => {
    const { lines, sink } = collect();
    const log = createLogger('t', 'info', sink);
    const metrics = createMetrics('t', sink, 'fn');
    await runInvocation('req-a', async () => {
      await new Promise((r) => setTimeout(r, 1));
      log.info('in a');
      metrics.request(200, 'ok');
    });
    await runInvocation('req-b', async () => log.warn('in b'));
    log.info('outside');
    const [a, emf, b, outside] = lines;
    // This module's first invocation in this test process is req-a: its cold start.
    expect(a).toMatchObject({ requestId: 'req-a', coldStart: true, message: 'in a' });
    expect(emf).toMatchObject({ requestId: 'req-a', Requests: 1 });
    expect(b).toMatchObject({ requestId: 'req-b', coldStart: false, level: 'WARN' });
    expect(outside).toMatchObject({ coldStart: false });
    expect(outside).not.toHaveProperty('requestId');
  });

  it('a sampled invocation logs at debug, the others at the level set', () => {
    const { lines, sink } = collect();
    const log = createLogger('t', 'info', sink);
    configureLogging({ debugSamplePercent: 25 });
    try {
      runInvocation(
        'sampled',
        () => log.debug('kept'),
        () => 0.2,
      );
      runInvocation(
        'not-sampled',
        () => log.debug('dropped'),
        () => 0.3,
      );
      runInvocation(
        'not-sampled',
        () => log.info('info stays'),
        () => 0.3,
      );
    } finally {
      configureLogging({ debugSamplePercent: 0 });
    }
    runInvocation(
      'off',
      () => log.debug('dropped too'),
      () => 0,
    );
    expect(lines.map((l) => l.message)).toEqual(['kept', 'info stays']);
    expect(lines[0]).toMatchObject({ level: 'DEBUG', requestId: 'sampled' });
  });
});

describe('the request frame counts every answer (shared/endpoint.ts)', () => {
  it('by status and decision, and an IdP outage as a dependency error', async () => {
    const { lines, sink } = collect();
    const handler = serve<{ kind: 'ok' | 'idp' | 'no' | 'none' }, Record<string, never>>({
      log: silentLogger,
      metrics: createMetrics('discovery', sink, 'fn'),
      route: (_r, url) => ({ kind: url.pathname.slice(1) as 'ok' }),
      async handle(x) {
        if (x.route.kind === 'idp')
          throw new DependencyError('identity provider', 'unreachable', 'token endpoint timed out');
        if (x.route.kind === 'no') throw forbidden('not allowed', 'a reason that stays in the log');
        return new Response('ok');
      },
      failure: (err) => errorResponse(err),
    });
    for (const p of ['ok', 'idp', 'no', 'none']) await handler(new Request(`https://fn.example/${p}`));
    const requests = lines.filter((l) => l.Requests === 1).map((l) => [l.Status, l.Decision]);
    expect(requests).toEqual([
      ['200', 'ok'],
      ['503', 'temporarily_unavailable'],
      ['403', 'forbidden'],
      ['404', 'not_found'],
    ]);
    expect(lines.filter((l) => l.DependencyErrors === 1)).toMatchObject([
      { Dependency: 'identity provider' },
    ]);
    expect(JSON.stringify(lines)).not.toContain('a reason that stays in the log');
    for (const doc of lines) expect(emfViolations(doc)).toEqual([]);
  });
});
