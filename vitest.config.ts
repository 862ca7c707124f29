import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    // Workers started by tests serve /metrics on any free port and log only warnings
    // (tests about logs set their own level).
    env: { OPENRTC_METRICS_PORT: '0', LOG_LEVEL: 'warn' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real servers on port 0; forks keep native rtc bindings apart.
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
