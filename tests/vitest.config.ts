import { defineConfig } from 'vitest/config';

const PROD = 'tests/e2e/prod.test.ts';

/**
 * Three projects: `unit` (logic, real sshd processes, the built CLI), `e2e` (the lab's dev nodes:
 * three node containers running the real HA stack) and `e2e-prod` (the prod profile on the lab's
 * other three nodes). `npm test` (tests/run.ts) runs e2e and, at the same time, e2e-prod then unit;
 * `npm run test:unit` only the first.
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
          exclude: [PROD],
          globalSetup: ['tests/e2e/global-setup.ts'],
          setupFiles: ['tests/e2e/on-failure.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
      {
        extends: true,
        test: {
          // the prod profile on its own three lab nodes (TWINCIGO_LAB_SET=prod): `npm test` runs it
          // at the same time as the dev suite (tests/run.ts)
          name: 'e2e-prod',
          include: [PROD],
          env: { TWINCIGO_LAB_SET: 'prod' },
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
