/** `crypto-mcp` as a user runs it: the analyze command, and stdio's stdout carrying nothing but JSON-RPC. */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, startServer, testEnv } from '../helpers/server-process.js';
import { expectCompleteAnalysis } from '../helpers/analysis-assertions.js';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: testEnv() });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('crypto-mcp analyze', () => {
  it('prints a readable report', async () => {
    const { code, stdout } = await cli(['analyze', 'BTC/USDT', '--timeframe', '4h']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^BTC\/USDT 4h on binance: (BUY|SELL|HOLD) \(confidence \d+\/100/);
    expect(stdout).toMatch(/Data: offline binance, 500 closed candles/);
    expect(stdout).toMatch(/not financial advice/);
  });

  it('prints the structured result with --json', async () => {
    const { code, stdout } = await cli([
      'analyze',
      'ethusdt',
      '-t',
      '1d',
      '--limit',
      '200',
      '--compare',
      'BTCUSDT',
      '--json',
    ]);
    expect(code).toBe(0);
    const r = expectCompleteAnalysis(JSON.parse(stdout), {
      symbol: 'ETH/USDT',
      timeframe: '1d',
      candles: 200,
    });
    expect(r.indicators.vwap.session).toBeNull(); // a "session" VWAP means nothing on daily candles
    expect(r.comparison).toMatchObject({ symbol: 'BTC/USDT', data_source: 'offline' });
  });

  it('exits 2 with the problem named for bad arguments, 1 with close matches for an unknown symbol', async () => {
    const bad = await cli(['analyze', 'BTCUSDT', '-t', '7h']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/timeframe/);
    const unknown = await cli(['analyze', 'BTCUSTD']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/did you mean.*BTC\/USDT/i);
  });

  it('exits 2 with a message naming the variable for bad configuration', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'analyze', 'BTCUSDT'], {
      env: testEnv({ DATA_SOURCE: 'sometimes' }),
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/DATA_SOURCE/);
  });
});

describe('crypto-mcp worker', () => {
  it('exits 2 and names the settings when it has nothing to do (no Redis, no delivery channel)', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'worker'], { env: testEnv() }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/REDIS_URL.*TWILIO_ACCOUNT_SID.*WEBHOOK_SIGNING_SECRET/);
  });

  it('serves without evaluating alerts when HTTP_RUNS_ALERTS=false (a worker does it)', async () => {
    const secret = { WEBHOOK_SIGNING_SECRET: 'cli-test-webhook-secret-0123' };
    const alone = await startServer(secret);
    const replica = await startServer({ ...secret, HTTP_RUNS_ALERTS: 'false' });
    try {
      expect(alone.stderr()).toContain('alert delivery running');
      expect(replica.stderr()).not.toContain('alert delivery running');
      expect(replica.stderr()).toContain('MCP Streamable HTTP server listening');
    } finally {
      await Promise.all([alone.stop(), replica.stop()]);
    }
  });

  it('runs with a webhook secret until it is stopped', async () => {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: testEnv({ WEBHOOK_SIGNING_SECRET: 'a-secret-of-32-characters-long!!' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line:\n${err}`)), 20_000);
      child.stderr!.on('data', () => {
        if (err.includes('alert delivery running')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal }, err).toEqual({ code: 0, signal: null });
  });

  it('serves its metrics to a scraper with METRICS_TOKEN on WORKER_METRICS_PORT, and nothing else', async () => {
    const token = 'worker-metrics-token-0123456789';
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: testEnv({
        WEBHOOK_SIGNING_SECRET: 'a-secret-of-32-characters-long!!',
        METRICS_TOKEN: token,
        WORKER_METRICS_PORT: '0',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no metrics line:\n${err}`)), 20_000);
        child.stderr!.on('data', () => {
          const m = /"worker metrics listening".*"url":"([^"]+)"/.exec(err);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const scraped = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      const text = await scraped.text();
      expect(text).toContain('# TYPE crypto_mcp_alert_deliveries_total counter');
      expect(text).toMatch(/crypto_mcp_outbox_messages\{status="pending"\} \d+/);
      expect((await fetch(url)).status).toBe(404);
      const posted = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(posted.status).toBe(404);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(
        404,
      );
      expect((await fetch(new URL('/health', url))).status).toBe(200);
      expect((await fetch(new URL('/api/v1/tools', url))).status).toBe(404);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, err).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  });
});

describe('crypto-mcp stdio', () => {
  it('writes only JSON-RPC messages to stdout, logs included', async () => {
    const child = spawn(process.execPath, [CLI, 'stdio'], {
      env: testEnv({ LOG_LEVEL: 'debug' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const send = (m: object) => child.stdin.write(JSON.stringify(m) + '\n');
    const answered = (id: number) =>
      new Promise<void>((resolve) => {
        const check = () => (out.includes(`"id":${id}`) ? resolve() : setTimeout(check, 20));
        check();
      });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    await answered(1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'analyze_crypto', arguments: { symbol: 'BTCUSDT' } },
    });
    send({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'analyze_crypto', arguments: { symbol: 'NOPE' } },
    });
    await answered(2);
    await answered(3);
    child.stdin.end();
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(err).toContain('tool call'); // the debug log went to stderr
  });
});
