/**
 * `stream`: bounds on streamed (SSE) responses.
 */
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const STREAM = table('stream', {
  max_duration_seconds: {
    type: 'int',
    default: 840,
    min: 1,
    max: 900,
  },
  heartbeat_seconds: {
    type: 'int',
    default: 25,
    min: 0,
    max: 900,
  },
  max_per_subject: {
    type: 'int',
    default: 10,
    min: 0,
    max: 10_000,
  },
});

export interface StreamConfig {
  /** Hard bound on one streamed response; keep below the Lambda timeout. */
  readonly maxDurationSeconds: number;
  /** Idle SSE streams get a comment line this often (0 = off). */
  readonly heartbeatSeconds: number;
  /** Long-lived (`GET`) streams one subject may hold open at once on one instance (0 = no limit). */
  readonly maxPerSubject: number;
}

export function parseStream(r: ConfigReader): StreamConfig {
  const s = open(r, STREAM);
  return {
    maxDurationSeconds: s.int('max_duration_seconds'),
    heartbeatSeconds: s.int('heartbeat_seconds'),
    maxPerSubject: s.int('max_per_subject'),
  };
}
