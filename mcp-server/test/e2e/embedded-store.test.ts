/**
 * The embedded default a newcomer gets from `npm start`: no DATABASE_URL, so portfolios live in a PGlite
 * database on disk, survive a restart, and a second process cannot open the same directory (PGlite is
 * single-process; two writers would corrupt it) but tells the user what to do instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { connectClient } from '../helpers/mcp-client.js';

describe('embedded PGlite database', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  const start = async () => {
    const s = await startServer({ DATABASE_URL: '', DATA_DIR: join(dir, 'db') });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crypto-mcp-embedded-'));
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps portfolios across restarts and refuses a second process on the same directory', async () => {
    const first = await start();
    let client = await connectClient(first.url);
    const created = await client.call('monitor_portfolio', {
      portfolio_id: 'home',
      positions: [{ symbol: 'ETHUSDT', quantity: 2.5, entry_price: 2000.123456789 }],
      cash: 100,
    });
    expect(created.isError, created.text).toBe(false);

    const second = await start();
    const other = await connectClient(second.url);
    const refused = await other.call('monitor_portfolio', { portfolio_id: 'home' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^STORE_UNAVAILABLE: .*already open in process \d+/);
    expect(refused.text).toMatch(/DATABASE_URL|DATA_DIR/);
    // Everything that does not need the database still works there.
    const analysis = await other.call('analyze_crypto', { symbol: 'BTCUSDT', save_analysis: false });
    expect(analysis.isError, analysis.text).toBe(false);
    await other.close();
    await second.stop();

    await client.close();
    await first.stop();
    const third = await start();
    client = await connectClient(third.url);
    const read = await client.call('monitor_portfolio', { portfolio_id: 'home' });
    expect(read.isError, read.text).toBe(false);
    expect(read.structured).toMatchObject({
      portfolio: { id: 'home', stored: true },
      valuation: { cash: 100 },
      positions: [{ symbol: 'ETH/USDT', quantity: 2.5, entry_price: 2000.123456789 }],
    });
    await client.close();
  });
});
