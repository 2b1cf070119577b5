/**
 * CloudWatch metrics as Embedded Metric Format (EMF) documents: one JSON line on stdout per
 * event, which CloudWatch Logs turns into metrics (no API call, no permission, no SDK). Shape
 * (CloudWatch EMF specification): `_aws.Timestamp` (ms), `_aws.CloudWatchMetrics[]` with
 * `Namespace`, `Dimensions` (sets of member names) and `Metrics` (`Name`, `Unit`); every dimension
 * and metric named there is a member of the document itself.
 *
 * Namespace `McpAuthProxy`, dimension `FunctionName` (the Lambda function's name, so two
 * deployments in one account stay apart), plus per metric the low-cardinality facts below —
 * never a subject, client id, URL, token or reason text. The request id (of the invocation the
 * line belongs to, log.ts) and its cold-start flag ride along as plain members, as in the log lines.
 *
 * EMF lines carry no `level`: Lambda's log-level filter counts them as INFO (kept at the
 * construct's application log level INFO or DEBUG).
 */
import { invocationFields, writeLogLine } from './log.ts';

export const METRICS_NAMESPACE = 'McpAuthProxy';

type Unit = 'Count' | 'Milliseconds' | 'Bytes';
interface Metric {
  readonly name: string;
  readonly unit: Unit;
  readonly value: number;
}

export interface Metrics {
  /** One answered request: counted by status and by decision (`ok` or the OAuth error code). */
  request(status: number, decision: string): void;
  /** Time to the upstream's response headers. */
  upstreamLatency(ms: number): void;
  /** A streamed response ended (`why`: upstream-end, client-cancel, max-duration, upstream-error). */
  stream(ms: number, bytes: number, why: string): void;
  /** A fetch of the JWKS (warm-up, unknown `kid`, cache expiry), and whether it worked. */
  jwksRefresh(ok: boolean): void;
  /** A request failed because a dependency did (identity provider, jwks, secrets, upstream). */
  dependencyError(dependency: string): void;
}

/** One EMF document: the metrics under one set of dimensions (each also alone, by function). */
export function emfDocument(
  functionName: string,
  metrics: readonly Metric[],
  dims: Readonly<Record<string, string>> = {},
  now = Date.now(),
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const names = Object.keys(dims);
  const sets = names.length ? [['FunctionName'], ['FunctionName', ...names]] : [['FunctionName']];
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: sets,
          Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    ...extra,
    FunctionName: functionName,
    ...dims,
  };
  for (const m of metrics) doc[m.name] = m.value;
  return doc;
}

/** Metrics of one function, written as EMF lines to `sink` (stdout, like the log lines). */
export function createMetrics(
  component: string,
  sink: (line: string) => void = writeLogLine,
  functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? component,
): Metrics {
  const emit = (metrics: Metric[], dims?: Record<string, string>) => {
    sink(JSON.stringify(emfDocument(functionName, metrics, dims, Date.now(), invocationFields())));
  };
  return {
    request: (status, decision) =>
      emit([{ name: 'Requests', unit: 'Count', value: 1 }], { Status: String(status), Decision: decision }),
    upstreamLatency: (ms) => emit([{ name: 'UpstreamLatency', unit: 'Milliseconds', value: ms }]),
    stream: (ms, bytes, why) =>
      emit(
        [
          { name: 'StreamDuration', unit: 'Milliseconds', value: ms },
          { name: 'StreamBytes', unit: 'Bytes', value: bytes },
        ],
        { Close: why },
      ),
    jwksRefresh: (ok) =>
      emit([{ name: 'JwksRefreshes', unit: 'Count', value: 1 }], { Outcome: ok ? 'ok' : 'error' }),
    dependencyError: (dependency) =>
      emit([{ name: 'DependencyErrors', unit: 'Count', value: 1 }], { Dependency: dependency }),
  };
}

export const silentMetrics: Metrics = {
  request() {},
  upstreamLatency() {},
  stream() {},
  jwksRefresh() {},
  dependencyError() {},
};
