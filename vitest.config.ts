import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // Console output (logs included, see test/setup.ts) is shown for failing tests only.
    silent: 'passed-only',
    env: {
      LOG_LEVEL: 'info',
      // The SDK's notice that it will need Node.js 22 in 2027 (tests run on 20, Lambda on 22+).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
