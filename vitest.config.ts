import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `npm run test:soak` sets SOAK=1: the fuzz files again with larger runs (FUZZ_SCALE, see
 * test/support/fuzz.ts), and the tests that take minutes (`*.soak.test.ts`), which `npm test` skips.
 */
const soak = process.env['SOAK'] === '1';

export default defineConfig({
  test: {
    include: soak
      ? ['test/fuzz/**/*.test.ts', 'test/**/*.soak.test.ts']
      : ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: soak ? configDefaults.exclude : [...configDefaults.exclude, '**/*.soak.test.ts'],
    environment: 'node',
    // Integration and e2e tests start real servers and share Redis; two workers suit a 2-core machine.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
