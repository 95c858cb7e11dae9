// The house rules a review would otherwise have to catch (DESIGN.md "House style"): promises
// nobody awaits, activity code pulled into the workflow sandbox, value imports used only as
// types. `npm run lint` runs it, then tsc; scripts/test.sh runs lint before the suite.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Workflow code is replayed from its history inside Temporal's sandbox: I/O, clocks and
// randomness belong in activities, reached through the proxies in workflows/activities.ts.
const DETERMINISM = 'workflow code must be deterministic (see DESIGN.md "House style")';
const BUILTIN = `Node built-ins do I/O and are nondeterministic; ${DETERMINISM}. Do it in an activity.`;

export default defineConfig(
  globalIgnores(['.data/', '.venv*/', 'coverage/', 'adapters/db/migrations/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Files tsconfig.json does not include (scripts run by tsx), checked with its options.
          allowDefaultProject: [
            'eslint.config.js',
            'test/integration/helpers/*.mjs',
            'data/sample-wisesight.ts',
            'slurm/tests/training_params.ts',
            'adapters/temporal-codec/failure-converter.cjs',
          ],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // An async function without await still turns a throw into a rejection, which ports, activities and fakes rely on.
      '@typescript-eslint/require-await': 'off',
      // Passing a caught error on unchanged (reject(err)) is not inventing a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Activities are object-literal methods that Temporal (and these tests) call unbound by design; none uses `this`.
    files: ['activities/index.ts', 'test/integration/activities.test.ts', 'test/integration/signing.test.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Tests read JSON answers (`any`) and check them with expect, which is the check that matters there.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // What workflow code may import: @temporalio/workflow, its own modules, domain/, and anything as a type.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: BUILTIN })),
          patterns: [
            { regex: '^node:', message: BUILTIN },
            { regex: '^(\\.\\./)+adapters(/|$)', message: `adapters do I/O outside the sandbox; ${DETERMINISM}. Call an activity instead.` },
            {
              // Not ./activities: that is workflows/activities.ts, the proxies.
              regex: '^(\\.\\./)+activities(/|$)',
              allowTypeImports: true,
              message: `activity implementations run outside the sandbox; ${DETERMINISM}. Use \`import type\` and call them through the proxies in workflows/activities.ts.`,
            },
            {
              regex: '^(\\.\\./)+config(/|$)',
              message: `configuration is read from files and the environment; ${DETERMINISM}. Pass values in the workflow's input.`,
            },
            { regex: '^(\\.\\./)+temporal\\.config(\\.ts)?$', message: `the Temporal connection settings belong to workers and clients; ${DETERMINISM}.` },
            {
              // The rest outside workflows/ and domain/: other packages, cli/, workers/, ...
              regex: `^(?!\\.\\.?/|node:|@temporalio/workflow$|(${builtinModules.join('|')})$)|^(\\.\\./)+(?!\\.\\./|domain/|adapters/|activities/|config/|temporal\\.config)`,
              allowTypeImports: true,
              message: `workflows import values only from @temporalio/workflow, ./ and ../domain/, since other code may do I/O; ${DETERMINISM}.`,
            },
          ],
        },
      ],
    },
  },
);
