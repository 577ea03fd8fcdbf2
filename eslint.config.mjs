import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'tests/mcp-harness/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // stdout is the stdio MCP channel: every log goes through the stderr logger.
      'no-console': ['error', { allow: ['error', 'warn'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // CLIs, benchmarks, fixtures and scripts print their results to stdout on purpose.
    files: [
      'mcp-server/bench/**',
      'mcp-server/scripts/**',
      'mcp-server/test/**',
      'mcp-server/src/cli*.ts',
      'scripts/**',
    ],
    rules: { 'no-console': 'off' },
  },
);
