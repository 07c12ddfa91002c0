// Three projects: `unit` (test/unit, no Java: domain with in-memory adapters, adapters with mocked clients),
// `integration` (every other folder but e2e: contract and integration tests on DynamoDB Local, which its global
// setup starts) and `e2e` (the local stack over HTTP and a browser, one file at a time).
// Select them with `--project`: a CLI `--exclude` does not reach projects.
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Shared by every project. Not inherited through `extends: true`, which would also concatenate the root's
// globalSetup into each project's and build the dashboard once per project.
const common = {
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
} satisfies TestProjectInlineConfiguration['test'];

const DYNAMODB_LOCAL = 'test/support/global-setup.ts';

export default defineConfig({
  test: {
    // The root project's global setup runs once for any run, whichever projects it selects.
    globalSetup: ['test/support/build-dashboard.ts'],
    projects: [
      { test: { ...common, name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          ...common,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/e2e/**', '**/node_modules/**'],
          globalSetup: [DYNAMODB_LOCAL],
        },
      },
      {
        test: {
          ...common,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: [DYNAMODB_LOCAL],
          fileParallelism: false,
        },
      },
    ],
  },
});
