import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (logic, real sshd processes, the built CLI) and `e2e` (the lab: three node
 * containers running the real HA stack; one lab per run, health-gated before the tests start).
 * `npm test` runs both; `npm run test:unit` only the first.
 */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/ssh/**/*.test.ts', 'tests/cli/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          setupFiles: ['tests/e2e/on-failure.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
