import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

// n8n's own lint for community nodes, as `n8n-node lint` (@n8n/node-cli 0.48) configures it: the
// community-nodes plugin (cloud-support "strict" set) on the node sources and package.json, plus the
// nodes-base plugin's community, credentials and nodes rule sets.
const n8nStrict = n8nCommunityNodesPlugin.configs.recommended;
const NODE_SOURCES = ['nodes/**/*.ts', 'credentials/**/*.ts'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'tests/mcp-harness/**', 'tests/n8n-harness/**'],
  },
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
      'test/**',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    files: NODE_SOURCES,
    languageOptions: { globals: {} },
    plugins: { ...n8nStrict.plugins, 'n8n-nodes-base': n8nNodesBase },
    rules: { ...n8nStrict.rules, 'prefer-spread': 'off', 'no-console': 'error' },
  },
  {
    files: ['package.json'],
    plugins: { ...n8nStrict.plugins, 'n8n-nodes-base': n8nNodesBase },
    // Only n8n's package rules: package.json parses as one expression the general rules would flag.
    rules: {
      ...n8nStrict.rules,
      ...n8nNodesBase.configs.community.rules,
      '@typescript-eslint/no-unused-expressions': 'off',
    },
    languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
  },
  {
    files: ['credentials/**/*.ts'],
    rules: {
      ...n8nNodesBase.configs.credentials.rules,
      'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
      'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
    },
  },
  {
    files: ['nodes/**/*.ts'],
    rules: {
      ...n8nNodesBase.configs.nodes.rules,
      'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
      'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
      'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
    },
  },
);
