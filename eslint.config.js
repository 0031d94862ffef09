// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'manifests/*.schema.json'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The domain keeps its own invariants (tiers never empty, steps indexed in range); `!` there is deliberate.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Domain code uses `throw new Error` only for programmer errors; user errors are typed values.
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
  {
    // The domain is pure: no I/O, no adapters, no clock (DESIGN section 2).
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'http', 'net', 'child_process'],
              message: 'src/domain is pure: no I/O.',
            },
            {
              group: ['ioredis', '@slack/*', 'pino'],
              message: 'src/domain is pure: adapters live outside it.',
            },
            { group: ['../*'], message: 'src/domain imports nothing of ours outside src/domain.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/domain takes the time as input.' },
        { object: 'Math', property: 'random', message: 'src/domain is deterministic.' },
      ],
    },
  },
  {
    // Slack and the notifiers are adapters at the edge: they reach the store through the role interfaces
    // of src/store/store.ts (handed to them by the composition root) and the engine only through the
    // shape of an effect handler. Everything else there would let them write rollbacks behind the engine.
    files: ['src/slack/**/*.ts', 'src/notifiers/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/store/redis/**', '**/store/memory/**', '**/store/index.js'],
              message:
                'Slack and notifiers take store roles (Docs, Dedup, RollbackReader ...) from src/store/store.ts; only the composition root picks an implementation.',
            },
            {
              group: ['**/engine/**', '!**/engine/outbox-worker.js', '!**/engine/step-runner.js'],
              message:
                'Slack and notifiers do not drive the engine: they act through application services (src/app) and receive effects as an EffectHandler.',
            },
            {
              group: ['**/engine/outbox-worker.js'],
              allowTypeImports: true,
              message:
                'Only the EffectHandler type: carrying out effects is the outbox worker’s job, handlers are plain functions it calls.',
            },
            {
              group: ['**/engine/step-runner.js'],
              allowTypeImports: true,
              message:
                'Only the step work and outcome types (the thread relays what a step prints); running steps is the engine’s job.',
            },
          ],
        },
      ],
    },
  },
);
