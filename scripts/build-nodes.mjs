// Builds the n8n node package the way `n8n-node build` does: a clean dist/, tsc (which also emits the
// codex .node.json files), then the icons beside the compiled nodes and credentials.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

for (const dir of ['nodes', 'credentials']) {
  for (const file of readdirSync(join(root, dir), { recursive: true })) {
    if (!/\.(svg|png)$/.test(file)) continue;
    const target = join(root, 'dist', dir, file);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(root, dir, file), target);
  }
}
