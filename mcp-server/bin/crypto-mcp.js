#!/usr/bin/env node
// The command's entry point lives outside dist/ so npm can link `crypto-mcp` at install time, before
// the first build has produced dist/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('crypto-mcp is not built yet: run `npm run build` in the repository root first.\n');
  process.exit(2);
}
await import(cli.href);
