// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.data/', '.tools/', 'drizzle/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Forgetting to await an Activity, a Workflow API or a database call is a bug, never a style choice.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node built-ins, and nothing
    // from src/ except types (the API and worker code there does I/O).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not allowed in workflow code.' })),
          patterns: [
            {
              group: ['../src', '../src/*', '../src/**', '../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows may import only types from src/ and activities/.',
            },
            {
              group: ['luxon', 'pg', 'postgres', 'drizzle-orm', 'drizzle-orm/*', 'firebase-admin', 'firebase-admin/*', 'web-push'],
              message: 'I/O and time-zone libraries belong in activities.',
            },
          ],
        },
      ],
      // The worker loads workflow modules once and shares them between workflows (preloadModules):
      // a module-level variable would leak one workflow's state into another.
      'no-restricted-syntax': [
        'error',
        { selector: 'Program > VariableDeclaration[kind=/let|var/]', message: 'Workflow modules are shared between workflows: keep state inside the workflow function.' },
        { selector: 'Program > ExportNamedDeclaration > VariableDeclaration[kind=/let|var/]', message: 'Workflow modules are shared between workflows: keep state inside the workflow function.' },
      ],
    },
  },
  {
    // Tests and the chaos suite read loosely typed JSON answers; `any` there is the honest type.
    files: ['test/**/*.ts', 'scripts/chaos/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
