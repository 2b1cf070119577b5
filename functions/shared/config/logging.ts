/**
 * `logging`: what the functions log beyond their level (shared/log.ts).
 */
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const LOGGING = table('logging', {
  debug_sample_percent: {
    type: 'int',
    default: 0,
    min: 0,
    max: 100,
  },
});

export interface LoggingConfig {
  /** Share of invocations (%) that log at debug; the construct then lets Lambda keep DEBUG lines. */
  readonly debugSamplePercent: number;
}

export function parseLogging(r: ConfigReader): LoggingConfig {
  return { debugSamplePercent: open(r, LOGGING).int('debug_sample_percent') };
}
