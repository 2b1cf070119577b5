/**
 * Measured times of the browser flows, for the record (never asserted): appended as JSON lines
 * to the file named by E2E_TIMINGS_FILE when it is set.
 */
import { appendFileSync } from 'node:fs';

export function recordTiming(what: string, ms: number): void {
  const file = process.env.E2E_TIMINGS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ what, ms })}\n`);
}
