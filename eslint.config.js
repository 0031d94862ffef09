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
);
