/**
 * Runs before every test file: log lines go to the console, which vitest shows only for tests
 * that fail (`silent: 'passed-only'`), so a passing run prints no ERROR lines or stack traces.
 */
import { setDefaultLogSink } from '../functions/shared/log.ts';

setDefaultLogSink((line) => console.log(line));
