/**
 * Runs the repository's nginx configuration (nginx/) for real, as the current user, in front of test
 * server processes. `renderNginxConfig` is the whole difference from production: file paths moved
 * under a temporary prefix, the two listen ports, and the upstream server lines. Each replacement must
 * match the repository's files, so a change there that the test no longer covers fails loudly.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

export const NGINX_DIR = new URL('../../../nginx/', import.meta.url).pathname;

/** The nginx binary on PATH (or Debian's /usr/sbin), or null when nginx is not installed. */
export function findNginx(): string | null {
  const path = `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin`;
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { env: { PATH: path }, encoding: 'utf8' });
  const bin = found.stdout.trim();
  return found.status === 0 && bin ? bin : null;
}

export interface RenderOptions {
  /** Directory that stands in for /etc/nginx (and the cache and ACME directories). */
  prefix: string;
  http: number;
  https: number;
  /** host:port of each MCP server replica. */
  mcp: string[];
  /** host:port standing in for n8n. */
  n8n: string;
  /**
   * Lift the per-IP and per-key rates (benchmarks measure the transport, not the limiter, from one
   * client address with one key). Everything else stays the production configuration.
   */
  liftRateLimits?: boolean;
}

/** `text` with `from` replaced by `to`, which must occur exactly `times` times (or at least once). */
function replace(file: string, text: string, from: string | RegExp, to: string, times?: number): string {
  const pattern = typeof from === 'string' ? new RegExp(escape(from), 'g') : from;
  const count = text.match(pattern)?.length ?? 0;
  if (count === 0 || (times !== undefined && count !== times)) {
    throw new Error(`nginx/${file}: expected ${times ?? 'some'} of ${String(from)}, found ${count}`);
  }
  return text.replace(pattern, to);
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Writes nginx.conf, conf.d/crypto-intel.conf and crypto-intel/upstreams.conf under the prefix. */
export async function renderNginxConfig(o: RenderOptions): Promise<string> {
  const read = (f: string) => readFile(join(NGINX_DIR, f), 'utf8');
  const p = o.prefix;

  let main = await read('nginx.conf');
  main = replace('nginx.conf', main, 'include /etc/nginx/conf.d/', `include ${p}/conf.d/`, 1);
  main = replace('nginx.conf', main, '/var/cache/nginx/', `${p}/cache/`);

  const siteFile = 'conf.d/crypto-intel.conf';
  let site = await read(siteFile);
  site = replace(siteFile, site, '/etc/nginx/crypto-intel/', `${p}/crypto-intel/`, 1);
  site = replace(siteFile, site, '/etc/nginx/certs/', `${p}/certs/`);
  site = replace(siteFile, site, 'root /var/www/certbot;', `root ${p}/acme;`, 1);
  site = replace(siteFile, site, /listen 80 /g, `listen 127.0.0.1:${o.http} `, 1);
  site = replace(siteFile, site, /listen 443 /g, `listen 127.0.0.1:${o.https} `, 2);
  if (o.liftRateLimits) site = replace(siteFile, site, /rate=\d+r\/s;/g, 'rate=1000000r/s;', 3);

  // One server line per replica, each with the production line's parameters (max_fails, fail_timeout)
  // but `resolve`: the test's upstreams are fixed addresses, and Debian's nginx (1.22) predates it.
  const upstreamsFile = 'upstreams.production.conf';
  let upstreams = await read(upstreamsFile);
  const replicas = o.mcp.map((address) => `$1server ${address}$2;`).join('\n');
  upstreams = replace(upstreamsFile, upstreams, /^( *)server mcp:8080([^;]*) resolve;$/gm, replicas, 1);
  upstreams = replace(upstreamsFile, upstreams, 'server n8n:5678 resolve;', `server ${o.n8n};`, 1);

  await mkdir(join(p, 'conf.d'), { recursive: true });
  await mkdir(join(p, 'crypto-intel'), { recursive: true });
  await mkdir(join(p, 'cache'), { recursive: true });
  await mkdir(join(p, 'acme'), { recursive: true });
  await writeFile(join(p, 'nginx.conf'), main);
  await writeFile(join(p, siteFile), site);
  await writeFile(join(p, 'crypto-intel/upstreams.conf'), upstreams);
  return join(p, 'nginx.conf');
}

/**
 * A self-signed certificate (P-256) for localhost, n8n.localhost and 127.0.0.1, written where the
 * site expects fullchain.pem and privkey.pem. Returns the certificate, which is its own CA.
 */
export async function selfSignedCertificate(certDir: string): Promise<string> {
  await mkdir(certDir, { recursive: true });
  const cert = join(certDir, 'fullchain.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,DNS:n8n.localhost,IP:127.0.0.1',
    '-keyout',
    join(certDir, 'privkey.pem'),
    '-out',
    cert,
  ]);
  await chmod(join(certDir, 'privkey.pem'), 0o600);
  return readFile(cert, 'utf8');
}

/** fetch's signature, as the MCP SDKs' transports accept it. */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * fetch over node:https trusting `ca` (Node 20's global fetch cannot be given a CA without undici's
 * Agent). Streams the response body, honours AbortSignal, and always connects over IPv4.
 */
export function tlsFetch(ca: string): FetchLike {
  const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 64 });
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers));
      const req = https.request(
        new URL(String(url)),
        { method: init.method ?? 'GET', headers, agent, family: 4, signal: init.signal ?? undefined },
        (res) => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            for (const value of [v ?? []].flat()) out.append(k, value);
          }
          const status = res.statusCode ?? 0;
          const empty = [204, 205, 304].includes(status) || init.method === 'HEAD';
          if (empty) res.resume();
          const body = empty
            ? null
            : (Readable.toWeb(res) as WebReadableStream<Uint8Array> as ReadableStream);
          resolve(new Response(body, { status, statusText: res.statusMessage ?? '', headers: out }));
        },
      );
      req.once('error', reject);
      const body = init.body;
      if (body === undefined || body === null) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else reject(new Error('tlsFetch sends string or byte bodies only'));
    });
}

export interface NginxProcess {
  /** https://localhost:<port> */
  origin: string;
  /** http://localhost:<port> */
  httpOrigin: string;
  httpsPort: number;
  /** The directory standing in for /etc/nginx (and the ACME root, `acme/`). */
  prefix: string;
  ca: string;
  fetch: FetchLike;
  /** The access log (JSON lines on nginx's stdout) and the error log (stderr). */
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
}

/**
 * Renders the repository's configuration for these upstreams and runs nginx in the foreground until
 * it answers. A port taken between choosing and binding (other processes on the machine) is retried
 * with new ports.
 */
export async function startNginx(
  upstreams: { mcp: string[]; n8n: string },
  options: { liftRateLimits?: boolean } = {},
): Promise<NginxProcess> {
  const bin = findNginx();
  if (!bin) throw new Error('nginx is not installed');
  const prefix = await mkdtemp(join(tmpdir(), 'crypto-intel-nginx-'));
  // Run as root, nginx's workers take the compiled-in user (nobody); they must reach the prefix.
  await chmod(prefix, 0o755);
  const ca = await selfSignedCertificate(join(prefix, 'certs'));
  const fetch = tlsFetch(ca);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = { http: await freePort(), https: await freePort() };
    const conf = await renderNginxConfig({ prefix, ...ports, ...upstreams, ...options });
    // Regular files as stdout/stderr: nginx opens /dev/stdout and /dev/stderr by name, which works
    // for a file or a pipe but not for the socket pairs Node gives a child.
    const outFile = join(prefix, `stdout-${attempt}.log`);
    const errFile = join(prefix, `stderr-${attempt}.log`);
    const [outFd, errFd] = [openSync(outFile, 'a'), openSync(errFile, 'a')];
    const child = spawn(
      bin,
      ['-p', `${prefix}/`, '-c', conf, '-g', `daemon off; pid ${prefix}/nginx.pid; error_log stderr;`],
      { stdio: ['ignore', outFd, errFd] },
    );
    closeSync(outFd);
    closeSync(errFd);
    const out = () => readFileSync(outFile, 'utf8');
    const err = () => readFileSync(errFile, 'utf8');
    const origin = `https://localhost:${ports.https}`;
    if (await answers(child, fetch, origin)) {
      return {
        origin,
        httpOrigin: `http://localhost:${ports.http}`,
        httpsPort: ports.https,
        prefix,
        ca,
        fetch,
        stdout: out,
        stderr: err,
        stop: async () => {
          await stop(child);
          await rm(prefix, { recursive: true, force: true });
        },
      };
    }
    await stop(child);
    lastError = err();
    if (!/Address already in use/.test(lastError)) break;
  }
  await rm(prefix, { recursive: true, force: true });
  throw new Error(`nginx did not start:\n${lastError}`);
}

/** Polls nginx's own /metrics answer (no upstream involved) until it comes, nginx exits or 10 s pass. */
async function answers(child: ChildProcess, fetch: FetchLike, origin: string): Promise<boolean> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      const res = await fetch(`${origin}/metrics`);
      await res.arrayBuffer();
      if (res.status === 404) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
