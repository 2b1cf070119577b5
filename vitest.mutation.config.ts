/**
 * The test set of `npm run mutation` (stryker.config.json): the table-driven tests of the pure
 * modules only, which run in milliseconds per mutant. The end-to-end suites (servers, browsers)
 * stay out: a mutant must be killed by a unit test that names the rule it breaks.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: { ...base.test, include: ['test/unit/**/*.test.ts'] },
});
