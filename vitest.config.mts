import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/build-dashboard.ts', 'test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and local-stack checks poll; on a busy 2-core machine a status round trip can take seconds.
    // A test that asserts nothing fails.
    expect: { requireAssertions: true, poll: { timeout: 15_000, interval: 100 } },
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      WEFT_TABLE: 'weft-unconfigured',
      AWS_REGION: 'eu-west-1',
    },
  },
});
