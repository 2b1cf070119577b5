/**
 * Structured JSON logs (one line per event), matching Lambda's JSON log format. Never log
 * tokens, secrets or bodies: callers pass reasons and identifiers only.
 */
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

export function createLogger(
  component: string,
  min: Level = (process.env.AWS_LAMBDA_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info').toLowerCase() as Level,
  sink: (line: string) => void = writeLogLine,
): Logger {
  const threshold = ORDER[min] ?? ORDER.info;
  const emit = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return;
    sink(
      JSON.stringify({
        timestamp: new Date().toISOString(),
        level: level.toUpperCase(),
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
