/**
 * The production deployment files, checked without a Docker engine (none runs on these machines):
 *
 * - `docker compose config` (the v2 plugin, or the standalone `docker-compose`) validates
 *   docker-compose.production.yml with .env.production.example, and the normalised configuration is
 *   checked for what production needs: health checks, restart policies, limits, no published port
 *   but nginx's 80/443, named volumes, an internal data network, n8n main and worker sharing queue
 *   mode and the image with the community package. Without any compose tool these are skipped with a
 *   notice, except in CI (CI set), where they fail.
 * - The source files directly: no secret in the compose file, every variable documented, every server
 *   variable of config.ts accounted for, the Dockerfiles' basics, .dockerignore.
 * - The data services' init files for real where this machine can: docker/postgres/init against a
 *   private PostgreSQL, docker/redis/redis.conf in a private redis-server, and docker/mongo/init in a
 *   sandbox whose index calls are compared with the ones MongoArchive makes.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoArchive } from '../../src/store/mongo-archive.js';
import { ARCHIVE_TTL_MS } from '../../src/store/types.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.production.yml');
const ENV_EXAMPLE = join(ROOT, '.env.production.example');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const composeSource = read('docker-compose.production.yml');
/** The compose file without its comments. */
const composeCode = composeSource
  .split('\n')
  .filter((l) => !l.trimStart().startsWith('#'))
  .join('\n');
const exampleSource = read('.env.production.example');

/** VAR=value lines of the example file. */
const exampleVars = new Map(
  exampleSource
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);

/** The server's environment variables: the keys of envSchema in config.ts (the authoritative list). */
const configVars = (() => {
  const source = read('mcp-server/src/config.ts');
  const start = source.indexOf('const envSchema = z.object({');
  const end = source.indexOf('\n});', start);
  expect(start).toBeGreaterThan(-1);
  return [...source.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
})();

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|API_KEYS?$|ENCRYPTION_KEY|REDISCLI_AUTH/;

// --- the compose tool, when this machine has one --------------------------------------------------------

interface ComposeTool {
  label: string;
  command: string;
  prefix: string[];
  /** Understands `config --format json` (v2). */
  json: boolean;
}

function detectCompose(): ComposeTool | null {
  const probe = (command: string, args: string[]): string | null => {
    try {
      return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch {
      return null;
    }
  };
  const plugin = probe('docker', ['compose', 'version']);
  if (plugin !== null) return { label: plugin.trim(), command: 'docker', prefix: ['compose'], json: true };
  const standalone = probe('docker-compose', ['version']);
  if (standalone !== null) {
    const v2 = /version v?2\./i.test(standalone);
    return { label: standalone.split('\n')[0]!.trim(), command: 'docker-compose', prefix: [], json: v2 };
  }
  return null;
}

const compose = detectCompose();
const CI = Boolean(process.env.CI);

/** Runs the compose tool on the production file with an env file, in an environment without stray variables. */
function composeRun(args: string[], envFile = ENV_EXAMPLE) {
  return run(compose!.command, [...compose!.prefix, '-f', COMPOSE_FILE, '--env-file', envFile, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

type Json = Record<string, unknown>;

/** The normalised configuration as JSON: v2's --format json, or v1's YAML through its own PyYAML. */
async function composeConfig(): Promise<Json> {
  if (compose!.json) return JSON.parse((await composeRun(['config', '--format', 'json'])).stdout) as Json;
  const { stdout } = await composeRun(['config']);
  const child = spawn('python3', [
    '-c',
    'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)',
  ]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(stdout);
  const [code] = (await once(child, 'close')) as [number];
  if (code !== 0) throw new Error(`YAML to JSON failed: ${err}`);
  return JSON.parse(out) as Json;
}

interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}

/** Service volumes in either tool's output: v2 objects, or v1 "source:target[:mode]" strings. */
function mounts(service: Json): Mount[] {
  return ((service.volumes as unknown[]) ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':') as [string, string, string | undefined];
      return {
        type: source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume',
        source,
        target,
        readOnly: mode === 'ro',
      };
    }
    const o = v as { type: string; source?: string; target: string; read_only?: boolean };
    return {
      type: o.type as Mount['type'],
      source: o.source ?? '',
      target: o.target,
      readOnly: o.read_only === true,
    };
  });
}

/** Published ports as "published:target" strings. */
function ports(service: Json): string[] {
  return ((service.ports as unknown[]) ?? []).map((p) => {
    if (typeof p === 'string') return p.replace(/\/tcp$/, '');
    const o = p as { published?: string | number; target: number };
    return `${o.published ?? ''}:${o.target}`;
  });
}

const networksOf = (service: Json): string[] =>
  Array.isArray(service.networks)
    ? (service.networks as string[])
    : Object.keys((service.networks as Json) ?? {});

const envOf = (service: Json): Record<string, string> => {
  const env = service.environment as Record<string, string> | string[] | undefined;
  if (!env) return {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
};

const EXPECTED_SERVICES = ['mcp', 'mongo', 'n8n', 'n8n-worker', 'nginx', 'postgres', 'redis', 'worker'];

if (!compose) {
  if (CI) {
    it('docker compose is available (required in CI)', () => {
      throw new Error(
        'Neither `docker compose` nor `docker-compose` runs here. Install one (e.g. `apt-get install -y docker-compose`).',
      );
    });
  } else {
    console.warn(
      'compose.test.ts: no `docker compose` or `docker-compose` here; the compose config checks are skipped',
    );
    it.skip('docker compose config checks (skipped: no docker compose or docker-compose on this machine)', () => {});
  }
} else {
  describe(`docker compose config (${compose.label})`, () => {
    let config: Json;
    let services: Record<string, Json>;

    beforeAll(async () => {
      config = await composeConfig();
      services = config.services as Record<string, Json>;
    });

    it('validates the production file with the example env file (config --quiet)', async () => {
      const { stdout, stderr } = await composeRun(['config', '--quiet']);
      expect(stdout).toBe('');
      expect(stderr).not.toMatch(/error|invalid/i);
    });

    it('stops with the variable named when a required secret is missing from the env file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'compose-env-'));
      try {
        const envFile = join(dir, '.env.production');
        await writeFile(envFile, exampleSource.replace(/^APP_DB_PASSWORD=.*$/m, ''));
        const failed = await composeRun(['config', '--quiet'], envFile).then(
          () => null,
          (err: { stderr: string }) => err,
        );
        expect(failed).not.toBeNull();
        expect(failed!.stderr).toContain('APP_DB_PASSWORD');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('has the services of the design', () => {
      expect(Object.keys(services).sort()).toEqual(EXPECTED_SERVICES);
    });

    it('gives every service a health check, a restart policy, resource limits and rotated json-file logs', () => {
      for (const [name, service] of Object.entries(services)) {
        const health = service.healthcheck as { test?: string[]; disable?: boolean } | undefined;
        expect(health?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
        expect(health?.test?.[0], `${name} healthcheck`).toMatch(/^CMD(-SHELL)?$/);
        expect(health?.disable, `${name} healthcheck`).not.toBe(true);
        expect(service.restart, `${name} restart`).toBe('unless-stopped');
        const limits = (service.deploy as { resources?: { limits?: { cpus?: unknown; memory?: unknown } } })
          ?.resources?.limits;
        expect(Number(limits?.cpus), `${name} cpus`).toBeGreaterThan(0);
        expect(limits?.memory, `${name} memory`).toBeTruthy();
        const logging = service.logging as { driver: string; options: Record<string, string> };
        expect(logging?.driver, `${name} logging`).toBe('json-file');
        expect(logging.options['max-size'], `${name} logging`).toBeTruthy();
        expect(Number(logging.options['max-file']), `${name} logging`).toBeGreaterThan(1);
      }
    });

    it('publishes only nginx, on 80 and 443', () => {
      for (const [name, service] of Object.entries(services)) {
        if (name === 'nginx') expect(ports(service).sort()).toEqual(['443:443', '80:80']);
        else expect(ports(service), `${name} publishes a port`).toEqual([]);
      }
    });

    it('runs 2+ MCP server replicas and the worker from one image, bound for nginx', () => {
      const mcp = services.mcp!;
      expect((mcp.deploy as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
      expect(mcp.container_name).toBeUndefined();
      expect(mcp.command).toEqual(['http']);
      expect(services.worker!.command).toEqual(['worker']);
      expect(services.worker!.image).toBe(mcp.image);
      const env = envOf(mcp);
      expect(env.MCP_HOST).toBe('0.0.0.0');
      expect(env.MCP_PORT).toBe('8080');
      expect(env.MCP_ALLOWED_HOSTS!.split(',')).toEqual(['mcp.example.com', 'mcp']);
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^:]+:[^@]+@postgres:5432\/\w+$/);
      expect(env.REDIS_URL).toMatch(/^redis:\/\/:[^@]+@redis:6379\/0$/);
      expect(env.MONGODB_URL).toMatch(/^mongodb:\/\/[^:]+:[^@]+@mongo:27017\/\w+\?authSource=\w+$/);
      // Every variable given to the server is one it reads (a typo would be silently ignored).
      for (const key of Object.keys(env)) expect([...configVars, 'NODE_ENV'], key).toContain(key);
      // The replicas hand alerts and the heavy tool calls to the worker, which has what they need.
      expect(env.HTTP_RUNS_ALERTS).toBe('false');
      expect(env.HTTP_RUNS_JOBS).toBe('false');
      const workerEnv = envOf(services.worker!);
      expect(workerEnv.REDIS_URL).toBe(env.REDIS_URL);
      expect(workerEnv.REDIS_KEY_PREFIX).toBe(env.REDIS_KEY_PREFIX);
      expect(workerEnv.HTTP_RUNS_JOBS).toBeUndefined();
      for (const key of Object.keys(workerEnv)) expect([...configVars, 'NODE_ENV'], key).toContain(key);
    });

    it('keeps data on named volumes, and the data services on an internal network only', () => {
      const declared = Object.keys((config.volumes as Json) ?? {});
      for (const [name, service] of Object.entries(services)) {
        for (const m of mounts(service)) {
          if (m.type === 'volume')
            expect(declared, `${name}: ${m.source} -> ${m.target}`).toContain(m.source);
        }
      }
      const dataDir = (service: string, target: string) =>
        mounts(services[service]!).find((m) => m.target === target);
      expect(dataDir('postgres', '/var/lib/postgresql/data')?.type).toBe('volume');
      expect(dataDir('redis', '/data')?.type).toBe('volume');
      expect(dataDir('mongo', '/data/db')?.type).toBe('volume');

      const networks = config.networks as Record<string, { internal?: boolean } | null>;
      expect(networks.backend?.internal).toBe(true);
      for (const data of ['postgres', 'redis', 'mongo'])
        expect(networksOf(services[data]!)).toEqual(['backend']);
      expect(networksOf(services.nginx!)).toEqual(['frontend']);
      for (const app of ['mcp', 'worker', 'n8n', 'n8n-worker']) {
        expect(networksOf(services[app]!).sort(), app).toEqual(['backend', 'frontend']);
      }
    });

    it('starts each service after the ones it needs are healthy', () => {
      const needs: Record<string, string[]> = {
        nginx: ['mcp', 'n8n'],
        mcp: ['mongo', 'postgres', 'redis'],
        worker: ['mongo', 'postgres', 'redis'],
        n8n: ['postgres', 'redis'],
        'n8n-worker': ['n8n', 'postgres', 'redis'],
      };
      for (const [name, deps] of Object.entries(needs)) {
        const dependsOn = services[name]!.depends_on as Record<string, { condition: string }>;
        expect(Object.keys(dependsOn).sort(), name).toEqual(deps);
        for (const dep of deps)
          expect(dependsOn[dep]!.condition, `${name} -> ${dep}`).toBe('service_healthy');
      }
    });

    it('mounts nginx exactly as the nginx layout contract says', () => {
      const nginx = services.nginx!;
      expect(nginx.image).toMatch(/^nginx:\d+\.\d+(\.\d+)?-alpine$/);
      const byTarget = Object.fromEntries(mounts(nginx).map((m) => [m.target, m]));
      expect(byTarget['/etc/nginx/nginx.conf']).toMatchObject({ type: 'bind', readOnly: true });
      expect(byTarget['/etc/nginx/nginx.conf']!.source).toMatch(/\/nginx\/nginx\.conf$/);
      expect(byTarget['/etc/nginx/conf.d']!.source).toMatch(/\/nginx\/conf\.d$/);
      expect(byTarget['/etc/nginx/conf.d']!.readOnly).toBe(true);
      expect(byTarget['/etc/nginx/crypto-intel/upstreams.conf']!.source).toMatch(
        /\/nginx\/upstreams\.production\.conf$/,
      );
      expect(byTarget['/etc/nginx/crypto-intel/upstreams.conf']!.readOnly).toBe(true);
      expect(byTarget['/etc/nginx/certs']?.readOnly).toBe(true);
      // The upstreams it proxies to are the services' names and ports.
      const upstreams = read('nginx/upstreams.production.conf');
      expect(upstreams).toMatch(/server mcp:8080\b/);
      expect(upstreams).toMatch(/server n8n:5678\b/);
      // Recreated replicas get new addresses: nginx follows the names through Docker's DNS (`resolve`,
      // nginx >= 1.27.3) instead of keeping the addresses it found at start.
      expect(upstreams).toMatch(/^resolver 127\.0\.0\.11\b/m);
      expect(upstreams).toMatch(/server mcp:8080 [^;]*\bresolve;/);
      expect(upstreams).toMatch(/server n8n:5678 [^;]*\bresolve;/);
      const [major, minor, patch] = /^nginx:(\d+)\.(\d+)(?:\.(\d+))?/
        .exec(String(nginx.image))!
        .slice(1)
        .map(Number) as [number, number, number];
      expect(major * 1e6 + minor * 1e3 + (patch || 0)).toBeGreaterThanOrEqual(1_027_003);
    });

    it('runs n8n main and worker in queue mode on one image with the community package', () => {
      const main = services.n8n!;
      const worker = services['n8n-worker']!;
      expect(worker.image).toBe(main.image);
      expect(worker.build).toEqual(main.build);
      expect((main.build as { context: string }).context).toMatch(/\/docker\/n8n$/);
      expect(worker.command).toEqual(['worker']);
      const [m, w] = [envOf(main), envOf(worker)];
      for (const env of [m, w]) {
        expect(env.EXECUTIONS_MODE).toBe('queue');
        expect(env.QUEUE_BULL_REDIS_HOST).toBe('redis');
        expect(env.DB_TYPE).toBe('postgresdb');
        expect(env.DB_POSTGRESDB_HOST).toBe('postgres');
        expect(env.N8N_PROXY_HOPS).toBe('1');
        expect(env.WEBHOOK_URL).toBe('https://n8n.example.com/');
        expect(env.N8N_ENCRYPTION_KEY).toBeTruthy();
        expect(env.QUEUE_BULL_REDIS_PASSWORD).toBeTruthy();
      }
      // Everything but nothing: one configuration for both.
      expect(w).toEqual(m);
      expect(mounts(main).map((x) => x.target)).not.toContain('/home/node/.n8n');
    });

    it('configures Redis for BullMQ (its conf, a password from the environment) and Postgres/Mongo init', () => {
      const redis = services.redis!;
      const command = (redis.command as string[]).join(' ');
      expect(command).toContain('/usr/local/etc/redis/redis.conf');
      expect(command).toMatch(/--requirepass "\$\$?REDIS_PASSWORD"/);
      expect(command).not.toContain('change-me');
      expect(mounts(redis).find((m) => m.target === '/usr/local/etc/redis/redis.conf')?.source).toMatch(
        /docker\/redis\/redis\.conf$/,
      );
      expect(
        mounts(services.postgres!).find((m) => m.target === '/docker-entrypoint-initdb.d')?.source,
      ).toMatch(/docker\/postgres\/init$/);
      expect(mounts(services.mongo!).find((m) => m.target === '/docker-entrypoint-initdb.d')?.source).toMatch(
        /docker\/mongo\/init$/,
      );
      expect(envOf(services.mongo!).MONGO_INITDB_ROOT_PASSWORD).toBeTruthy();
    });
  });
}

// --- the source files, with no tool ----------------------------------------------------------------------

describe('docker-compose.production.yml and .env.production.example', () => {
  it('holds no secret: every secret-named value and URL password is an interpolation', () => {
    expect(composeCode).not.toMatch(/change-me/);
    for (const line of composeCode.split('\n')) {
      const m = /^\s*-?\s*([A-Z][A-Z0-9_]*)\s*[:=]\s*(.*)$/.exec(line);
      if (m && SECRET_NAME.test(m[1]!)) {
        const literal = m[2]!
          .replace(/\$\{[^}]*\}/g, '')
          .replace(/['"]/g, '')
          .trim();
        expect(literal, line).toBe('');
      }
      for (const url of line.matchAll(/[a-z]+:\/\/([^:@/\s]*):([^@\s]+)@/g)) {
        expect(url[2], line).toMatch(/^\$\{[A-Z0-9_]+(:[?-][^}]*)?\}$/);
      }
    }
  });

  it('documents every variable the compose file reads, and reads every variable it documents', () => {
    const used = new Set([...composeCode.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    for (const name of used) expect([...exampleVars.keys()], `${name} is not in the example`).toContain(name);
    for (const name of exampleVars.keys()) {
      // COMPOSE_* settings are read by compose itself (the project name), not interpolated.
      if (!name.startsWith('COMPOSE_')) expect([...used], `${name} is documented but unused`).toContain(name);
    }
  });

  it('accounts for every server variable of config.ts: passed by the compose file or explained', () => {
    expect(configVars.length).toBeGreaterThan(20);
    const mcpEnv = composeSource.slice(
      composeSource.indexOf('x-mcp-env:'),
      composeSource.indexOf('x-n8n-image:'),
    );
    for (const name of configVars) {
      const passed = new RegExp(`^ {2}${name}:`, 'm').test(mcpEnv);
      const explained = new RegExp(`\\b${name}\\b`).test(exampleSource);
      expect(passed || explained, `${name} is neither passed to the server nor explained`).toBe(true);
    }
  });

  it('has placeholders only: change-me or empty for every secret, nothing that looks like a real one', () => {
    for (const [name, value] of exampleVars) {
      if (SECRET_NAME.test(name)) expect(['', 'change-me'], name).toContain(value);
      expect(value, name).not.toMatch(/[0-9a-f]{24,}|AC[0-9a-fA-F]{32}|HX[0-9a-fA-F]{32}|sk-[A-Za-z0-9]/);
    }
    // Every line is a comment, blank or an assignment (docker's env-file format).
    for (const line of exampleSource.split('\n')) expect(line, line).toMatch(/^(#.*|[A-Z][A-Z0-9_]*=.*|)$/);
  });
});

describe('Dockerfile (server), docker/n8n/Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1]!,
    name: m[2],
  }));
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('is multi-stage: dependencies and build apart from a slim runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(stages.every((s) => s.name)).toBe(true);
    expect(stages.at(-1)!.image).toMatch(
      /^node:\$\{NODE_VERSION\}-(bookworm-slim|alpine)$|^node:20[\w.-]*-(slim|alpine)/,
    );
    expect(dockerfile).toMatch(/npm ci\b[^\n]*--omit=dev/);
    expect(dockerfile).toMatch(/npm run build --workspace mcp-server/);
    expect(runtime).toMatch(/COPY --from=build \S*mcp-server\/dist/);
    expect(dockerfile).not.toMatch(/^COPY \. /m);
  });

  it('runs as a non-root user, in production mode, with a health check, the CLI as entrypoint and http', () => {
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(runtime.indexOf('USER ')).toBeLessThan(runtime.indexOf('ENTRYPOINT'));
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*CMD/m);
    expect(runtime).toMatch(/^EXPOSE 8080$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \[.*crypto-mcp\.js"\]$/m);
    expect(runtime).toMatch(/^CMD \["http"\]$/m);
    expect(runtime).toMatch(/DATA_DIR=\/data/);
    expect(runtime).toMatch(/^VOLUME \["\/data"\]$/m);
  });

  it('gives the runtime the font the PNG charts name (slim images have none)', () => {
    // chart-render.ts asks resvg for DejaVu Sans from the system fonts; without any font installed the
    // PNG charts come out without a single label.
    expect(read('mcp-server/src/services/chart-render.ts')).toMatch(/defaultFontFamily: 'DejaVu Sans'/);
    expect(runtime).toMatch(/apt-get install[^\n]*--no-install-recommends[^\n]*\bfonts-dejavu-core\b/);
  });

  it('builds n8n from n8nio/n8n:2.41.1 with the package in /home/node/.n8n/nodes', () => {
    const n8n = read('docker/n8n/Dockerfile');
    const froms = [...n8n.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.at(-1)).toBe('n8nio/n8n:2.41.1');
    expect(n8n).toMatch(/COPY --from=\S+ --chown=node:node \/out \/home\/node\/\.n8n\/nodes/);
    expect(n8n).toMatch(/npm install --prefix \/out "\$spec" --omit=peer --ignore-scripts/);
    expect(n8n).toMatch(/^USER node$/m);
  });

  it('keeps dependencies, builds, harnesses, git and env files out of the build context', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', 'tests/*-harness', '.git', '**/.env*']) {
      expect(ignore).toContain(pattern);
    }
    // Every file the Dockerfile copies from the context is let back in.
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) {
        const allowed = ignore.some((p) => {
          const back = p.startsWith('!') ? p.slice(1).replace(/\/$/, '') : null;
          return back !== null && (src === back || src.startsWith(`${back}/`));
        });
        expect(allowed, `${src} is copied but ignored`).toBe(true);
      }
    }
  });
});

// --- the data services' init files, for real where possible -----------------------------------------------

describe('docker/postgres/init/10-databases.sh (against a private PostgreSQL)', () => {
  let server: PrivatePostgres;
  const port = () => new URL(server.url).port;
  const appPassword = `it's a "secret" $(whoami) ${randomBytes(4).toString('hex')}`;
  const initEnv = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    POSTGRES_USER: 'postgres',
    POSTGRES_DB: 'postgres',
    PGHOST: '127.0.0.1',
    PGPORT: port(),
    APP_DB_NAME: 'crypto_mcp',
    APP_DB_USER: 'crypto_mcp',
    APP_DB_PASSWORD: appPassword,
    N8N_DB_NAME: 'n8n',
    N8N_DB_USER: 'n8n',
    N8N_DB_PASSWORD: 'n8n-password-0123',
  });
  const init = (env: Record<string, string>) =>
    run('bash', [join(ROOT, 'docker/postgres/init/10-databases.sh')], { env }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
  const query = async <R extends pg.QueryResultRow>(sql: string, user = 'postgres', db = 'postgres') => {
    const client = new pg.Client({ host: '127.0.0.1', port: Number(port()), user, database: db });
    await client.connect();
    try {
      return (await client.query<R>(sql)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    server = await startPrivatePostgres();
  });
  afterAll(async () => server?.destroy());

  it('creates each database owned by its login role with its password, and can run again', async () => {
    const first = await init(initEnv());
    expect(first.code, first.stderr).toBe(0);
    const again = await init(initEnv());
    expect(again.code, again.stderr).toBe(0);
    expect(first.stdout + first.stderr).not.toContain(appPassword);

    const owners = await query<{ datname: string; owner: string }>(
      `select datname, pg_get_userbyid(datdba) as owner from pg_database where datname in ('crypto_mcp', 'n8n') order by 1`,
    );
    expect(owners).toEqual([
      { datname: 'crypto_mcp', owner: 'crypto_mcp' },
      { datname: 'n8n', owner: 'n8n' },
    ]);
    const roles = await query<{
      rolname: string;
      rolcanlogin: boolean;
      has_password: boolean;
      rolsuper: boolean;
    }>(
      `select rolname, rolcanlogin, rolpassword is not null as has_password, rolsuper from pg_authid
        where rolname in ('crypto_mcp', 'n8n') order by 1`,
    );
    expect(roles).toEqual([
      { rolname: 'crypto_mcp', rolcanlogin: true, has_password: true, rolsuper: false },
      { rolname: 'n8n', rolcanlogin: true, has_password: true, rolsuper: false },
    ]);
  });

  it("sets each role's password as given, never on psql's command line", async () => {
    // The stored SCRAM verifier matches the password, quotes, $( ) and all.
    const [{ verifier }] = await query<{ verifier: string }>(
      `select rolpassword as verifier from pg_authid where rolname = 'crypto_mcp'`,
    );
    const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier)!;
    expect(m).not.toBeNull();
    const salted = pbkdf2Sync(appPassword, Buffer.from(m[2]!, 'base64'), Number(m[1]), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(createHash('sha256').update(clientKey).digest('base64')).toBe(m[3]);

    // psql's arguments are visible to every process (ps): a stand-in records them, then runs psql.
    const dir = await mkdtemp(join(tmpdir(), 'psql-argv-'));
    try {
      const realPsql = execFileSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).trim();
      await writeFile(
        join(dir, 'psql'),
        `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >>"${dir}/argv"\nexec "${realPsql}" "$@"\n`,
        { mode: 0o755 },
      );
      const again = await init({ ...initEnv(), PATH: `${dir}:${process.env.PATH ?? ''}` });
      expect(again.code, again.stderr).toBe(0);
      const argv = readFileSync(join(dir, 'argv'), 'utf8');
      expect(argv).toContain('crypto_mcp');
      expect(argv).not.toContain(appPassword);
      expect(argv).not.toContain('n8n-password-0123');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps n8n out of the server database and the other way round', async () => {
    await expect(query('select 1', 'n8n', 'crypto_mcp')).rejects.toThrow(/permission denied/);
    await expect(query('select 1', 'crypto_mcp', 'n8n')).rejects.toThrow(/permission denied/);
  });

  it("lets the server's role run the migrations in its database", async () => {
    const cli = join(ROOT, 'mcp-server/bin/crypto-mcp.js');
    const migrated = await run(process.execPath, [cli, 'migrate'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        DATABASE_URL: `postgres://crypto_mcp@127.0.0.1:${port()}/crypto_mcp`,
      },
    });
    expect(migrated.stdout).toMatch(/schema version \d+/);
    const tables = await query<{ owner: string }>(
      `select distinct tableowner as owner from pg_tables where schemaname = 'public'`,
      'crypto_mcp',
      'crypto_mcp',
    );
    expect(tables).toEqual([{ owner: 'crypto_mcp' }]);
  });

  it('stops, naming the variable, when one is missing', async () => {
    const env: Record<string, string> = { ...initEnv() };
    delete env.N8N_DB_PASSWORD;
    const failed = await init(env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('N8N_DB_PASSWORD is not set');
  });
});

describe('docker/redis/redis.conf (loaded by a private redis-server)', () => {
  let dir: string;
  let child: ReturnType<typeof spawn> | undefined;
  let port: number;
  const password = `redis-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'redis-conf-'));
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    server.close();
    await once(server, 'close');
    // The production file, with what only differs on this machine: port, interface, directory (the
    // file's `dir /data` is the container's volume; Redis changes into it while reading the file).
    const conf = read('docker/redis/redis.conf');
    expect(conf).toMatch(/^dir \/data$/m);
    await writeFile(join(dir, 'redis.conf'), conf.replace(/^dir \/data$/m, `dir ${dir}`));
    child = spawn(
      'redis-server',
      [
        join(dir, 'redis.conf'),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--requirepass',
        password,
      ],
      { stdio: 'ignore' },
    );
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('persists with AOF every second, never evicts, and needs the password', async () => {
    const client = new Redis({ port, host: '127.0.0.1', password, retryStrategy: () => 100 }).on(
      'error',
      () => undefined,
    );
    try {
      for (let i = 0; client.status !== 'ready'; i++) {
        if (i > 200) throw new Error('redis-server did not start with docker/redis/redis.conf');
        await new Promise((r) => setTimeout(r, 25));
      }
      const get = async (key: string) => ((await client.config('GET', key)) as string[])[1];
      expect(await get('appendonly')).toBe('yes');
      expect(await get('appendfsync')).toBe('everysec');
      expect(await get('maxmemory-policy')).toBe('noeviction');
      expect(Number(await get('maxmemory'))).toBeGreaterThan(0);
      expect(await get('save')).not.toBe('');
      const anonymous = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping']);
      expect(anonymous.stdout).toMatch(/NOAUTH/);
    } finally {
      client.disconnect();
    }
  });
});

describe('docker/mongo/init/10-archive.js (in a sandbox)', () => {
  it("creates the app user and exactly MongoArchive's indexes", async () => {
    // What the server itself creates on first use: MongoArchive against a client that records the calls.
    const archive = await MongoArchive.open('mongodb://127.0.0.1:1/crypto_mcp');
    const serverIndexes: unknown[] = [];
    const fakeCollection = {
      createIndexes: async (specs: unknown[]) => {
        serverIndexes.push(...specs);
        return [];
      },
      insertOne: async () => ({ insertedId: { toHexString: () => '0'.repeat(24) } }),
    };
    const fakeClient = {
      connect: async () => fakeClient,
      db: () => ({ collection: () => fakeCollection }),
      close: async () => undefined,
    };
    (archive as unknown as { client: unknown }).client = fakeClient;
    await archive.save({
      symbol: 'BTC/USDT',
      exchange: 'binance',
      timeframe: '4h',
      timestamp: new Date(),
      confidence: 50,
      action: 'HOLD',
      report: {},
    });
    await archive.close();
    expect(serverIndexes).toHaveLength(3);

    // What the init script does, run by a stand-in for mongosh.
    const scriptIndexes: unknown[] = [];
    const users: { user: string; pwd: string; roles: unknown }[] = [];
    const created: string[] = [];
    const siblings: string[] = [];
    const appDb = {
      getUser: () => null,
      createUser: (u: { user: string; pwd: string; roles: unknown }) => users.push(u),
      getCollectionNames: () => [],
      createCollection: (name: string) => created.push(name),
      getCollection: (name: string) => {
        expect(name).toBe('analyses');
        return {
          createIndex: (key: unknown, options?: Record<string, unknown>) =>
            scriptIndexes.push({ key, ...(options ?? {}) }),
        };
      },
    };
    runInNewContext(read('docker/mongo/init/10-archive.js'), {
      db: { getSiblingDB: (name: string) => (siblings.push(name), appDb) },
      print: () => undefined,
      process: {
        env: {
          MONGO_APP_DB: 'crypto_mcp',
          MONGO_APP_USER: 'crypto_mcp',
          MONGO_APP_PASSWORD: 'pw-0123456789abcdef',
        },
      },
    });

    // Same keys in the same order (order is part of an index), same options.
    expect(JSON.stringify(scriptIndexes)).toBe(JSON.stringify(serverIndexes));
    expect(scriptIndexes).toContainEqual({
      key: { created_at: 1 },
      expireAfterSeconds: ARCHIVE_TTL_MS / 1000,
    });
    expect(siblings).toEqual(['crypto_mcp']);
    expect(created).toEqual(['analyses']);
    expect(users).toEqual([
      { user: 'crypto_mcp', pwd: 'pw-0123456789abcdef', roles: [{ role: 'readWrite', db: 'crypto_mcp' }] },
    ]);
  });
});
