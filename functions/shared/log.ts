/**
 * Structured JSON logs (one line per event), matching Lambda's JSON log format. Never log
 * tokens, secrets or bodies: callers pass reasons and identifiers only.
 *
 * Every line carries the Lambda request id of the invocation it belongs to and whether that
 * invocation is the instance's first (`coldStart`; lines of the init phase count as the cold
 * start): the adapters run each invocation in `runInvocation`. A share of invocations
 * (`logging.debug_sample_percent`, `configureLogging`) logs at debug. Powertools' Logger does the
 * same but costs ~20x our module init (docs/architecture.md, "Logs and metrics").
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

let defaultSink: (line: string) => void = (l) => process.stdout.write(`${l}\n`);

/**
 * Where loggers made without a sink of their own write (stdout, as Lambda reads it). The test
 * setup sends lines to the console instead, so they show only for tests that fail.
 */
export function setDefaultLogSink(sink: (line: string) => void): void {
  defaultSink = sink;
}

/** One line to the default sink (the local runner's own runtime messages). */
export function writeLogLine(line: string): void {
  defaultSink(line);
}

interface Invocation {
  readonly requestId?: string;
  readonly coldStart: boolean;
  /** This invocation was sampled: it logs at debug. */
  readonly debug: boolean;
}
const invocation = new AsyncLocalStorage<Invocation>();
let started = 0;
let debugShare = 0;

/** Cold-start settings from the config: the share of invocations (0–100 %) that log at debug. */
export function configureLogging(opts: { readonly debugSamplePercent: number }): void {
  debugShare = opts.debugSamplePercent / 100;
}

/**
 * Run one invocation: lines logged in it (and in everything it starts) carry its request id,
 * `coldStart` (true for the instance's first) and, if sampled, debug lines.
 */
export function runInvocation<T>(requestId: string | undefined, fn: () => T, random = Math.random): T {
  const coldStart = started++ === 0;
  return invocation.run({ requestId, coldStart, debug: debugShare > 0 && random() < debugShare }, fn);
}

/** The request id and cold-start flag of the current invocation (init: no id, a cold start). */
export function invocationFields(): { requestId?: string; coldStart: boolean } {
  const inv = invocation.getStore();
  return inv ? { requestId: inv.requestId, coldStart: inv.coldStart } : { coldStart: started === 0 };
}

export function createLogger(
  component: string,
  min: Level = (
    process.env.MCP_AUTH_PROXY_LOG_LEVEL ??
    process.env.AWS_LAMBDA_LOG_LEVEL ??
    process.env.LOG_LEVEL ??
    'info'
  ).toLowerCase() as Level,
  sink: (line: string) => void = writeLogLine,
): Logger {
  const threshold = ORDER[min] ?? ORDER.info;
  const emit = (level: Level, message: string, fields?: Record<string, unknown>) => {
    const inv = invocation.getStore();
    if (ORDER[level] < threshold && !(inv?.debug && level === 'debug')) return;
    sink(
      JSON.stringify({
        timestamp: new Date().toISOString(),
        level: level.toUpperCase(),
        requestId: inv?.requestId,
        coldStart: inv ? inv.coldStart : started === 0,
        component,
        message,
        ...fields,
      }),
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
