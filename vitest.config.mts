import { defineConfig } from 'vitest/config';

// vitest itself is the mcp-server workspace's devDependency (hoisted): a root entry makes `npm ci` reject
// the lockfile, whose rollup platform packages are partly missing from the registry mirror.
// The n8n node package's tests (test/): node units against local HTTP stubs, and the end-to-end run
// in a real n8n (skipped without the harness in tests/n8n-harness, required in CI). The server's own
// suite runs from mcp-server/.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
