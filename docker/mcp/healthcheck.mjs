// Container health check of the crypto-mcp image (no curl or wget in node:*-slim; node does it).
//
//   node /app/healthcheck.mjs http   GET http://127.0.0.1:$MCP_PORT/health answers 2xx (the default)
//   node /app/healthcheck.mjs deps   TCP reach of the hosts in DATABASE_URL and REDIS_URL (the worker,
//                                    which serves no HTTP)
//
// Exit 0 healthy, 1 not. Prints the reason on stderr, never a URL (they carry passwords).
import { connect } from 'node:net';

const TIMEOUT_MS = 3_000;
const mode = process.argv[2] ?? 'http';

function fail(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

async function checkHttp() {
  const port = process.env.MCP_PORT || '8080';
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) fail(`/health answered ${res.status}`);
}

function reach(name, url, defaultPort) {
  let target;
  try {
    const u = new URL(url);
    target = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaultPort) };
  } catch {
    fail(`${name} is not a valid URL`);
  }
  return new Promise((resolve) => {
    const socket = connect(target);
    const done = (error) => {
      socket.destroy();
      if (error) fail(`${name} host ${target.host}:${target.port} not reachable (${error})`);
      resolve();
    };
    socket.setTimeout(TIMEOUT_MS, () => done('timeout'));
    socket.once('error', (err) => done(err.code ?? err.message));
    socket.once('connect', () => done(null));
  });
}

async function checkDeps() {
  const checks = [];
  if (process.env.DATABASE_URL) checks.push(reach('DATABASE_URL', process.env.DATABASE_URL, 5432));
  if (process.env.REDIS_URL) checks.push(reach('REDIS_URL', process.env.REDIS_URL, 6379));
  await Promise.all(checks);
}

try {
  if (mode === 'http') await checkHttp();
  else if (mode === 'deps') await checkDeps();
  else fail(`unknown mode "${mode}" (http or deps)`);
  process.exit(0);
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
