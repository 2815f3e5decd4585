// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Import boundaries, one list per layer. ESLint keeps only the last `no-restricted-imports` setting that applies
 * to a file, so each folder's rule is built from every restriction that holds for it.
 */
const UI_OR_COMMANDS = {
  group: ['**/ui/**', '**/commands/**', '@oclif/*', 'ink', 'ink-*', 'react', 'react/*', 'chalk'],
  message: 'src/core knows nothing of the terminal: no ui, commands, oclif, ink, react or chalk.',
}
const TEST_CODE = {
  group: ['**/test/**', '**/fakes/**', '**/fixtures/**', 'vitest', 'ink-testing-library'],
  message: 'Product code imports no test code (fakes, fixtures, test helpers).',
}
const ABOVE_CODECS = {
  group: ['**/proxy/**', '**/server/**', '**/providers/**', '**/pools/**'],
  message: 'Codecs are pure: they import no proxy, server, providers or pools.',
}
const PROXY = {group: ['**/proxy/**'], message: 'Providers sit below the proxy and import nothing from it.'}

/** @param {...{group: string[]; message: string}} patterns */
const restrict = (...patterns) => ({'no-restricted-imports': ['error', {patterns}]})

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/**', 'bin/**', '*.config.*']},
  {
    files: ['src/**/*.{ts,tsx}', 'test/**/*.{ts,tsx}'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname}},
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // `void promise` is how this code base says "runs on its own, errors handled inside".
      'no-void': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'},
      ],
    },
  },
  {
    // Tests and fakes read loosely typed wire JSON and match raw terminal escapes; product code keeps its zero `any`.
    files: ['**/*.test.{ts,tsx}', 'test/**'],
    rules: {'@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off'},
  },
  {files: ['src/core/**/*.{ts,tsx}'], rules: restrict(UI_OR_COMMANDS, TEST_CODE)},
  {files: ['src/core/codecs/**/*.{ts,tsx}'], rules: restrict(UI_OR_COMMANDS, TEST_CODE, ABOVE_CODECS)},
  {files: ['src/core/providers/**/*.{ts,tsx}'], rules: restrict(UI_OR_COMMANDS, TEST_CODE, PROXY)},
  // Tests and their fixtures may use test code; the layer rules still hold for them.
  {files: ['src/core/**/*.test.{ts,tsx}'], rules: restrict(UI_OR_COMMANDS)},
  {files: ['src/core/codecs/**/*.test.{ts,tsx}'], rules: restrict(UI_OR_COMMANDS, ABOVE_CODECS)},
  {files: ['src/core/providers/**/*.test.{ts,tsx}'], rules: restrict(UI_OR_COMMANDS, PROXY)},
)
