/** SqlBacktestRunStore on a real PostgreSQL and on PGlite: the same behaviour, exactly. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlBacktestRunStore } from '../../src/store/backtest-runs.js';
import type { NewBacktestRun } from '../../src/store/types.js';
import { SQL_BACKENDS, type TestDatabase } from '../helpers/postgres.js';

const run = (extra: Partial<NewBacktestRun> = {}): NewBacktestRun => ({
  symbol: 'BTC/USDT',
  exchange: 'binance',
  timeframe: '1h',
  strategy: 'ema_cross',
  params: { fast: 12, slow: 26 },
  config: { initial_capital: 10_000, fee_rate: 0.001, slippage: 0.0005, sizing: { mode: 'fixed_fraction' } },
  period_start: '2025-03-01T00:00:00.000Z',
  period_end: '2025-04-01T00:00:00.000Z',
  mode: 'single',
  metrics: { total_return_pct: -1.2345678901234, sharpe: null, trades: 7, tiny: 1.5e-9, big: 1.2e21 },
  result: {
    trades: [
      { side: 'long', entry_time: '2025-03-02T01:00:00.000Z', pnl: -12.5, note: 'a "quoted" <b>&</b>' },
    ],
    equity: [{ time: '2025-03-01T00:00:00.000Z', equity: 10_000, drawdown_pct: 0 }],
    nested: { list: [1, [2, 3], { a: true }], empty: {} },
  },
  request: { symbol: 'BTCUSDT', timeframe: '1h', strategy: 'ema_cross' },
  data_source: 'offline',
  as_of: '2025-04-01T00:00:00.000Z',
  ...extra,
});

describe.each(SQL_BACKENDS)('SqlBacktestRunStore on $backend', ({ open }) => {
  let t: TestDatabase;
  let store: SqlBacktestRunStore;
  const owner = () => `owner-${randomUUID()}`;

  beforeAll(async () => {
    t = await open();
    store = new SqlBacktestRunStore(t.db);
  });
  afterAll(() => t?.close());

  it('saves a run and reads back exactly what was saved', async () => {
    const o = owner();
    const input = run();
    const saved = await store.save(o, input);
    expect(saved.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(saved.created_at).toISOString()).toBe(saved.created_at);
    expect(saved).toMatchObject(input);
    const got = await store.get(o, saved.id);
    expect(got).toEqual(saved);
    // Numbers survive jsonb unchanged, including tiny, huge and long ones.
    expect(got!.metrics).toEqual(input.metrics);
    expect(got!.result).toEqual(input.result);
  });

  it('keeps owners apart and answers null for unknown or malformed ids', async () => {
    const a = owner();
    const b = owner();
    const saved = await store.save(a, run());
    expect(await store.get(b, saved.id)).toBeNull();
    expect(await store.get(a, randomUUID())).toBeNull();
    expect(await store.get(a, 'not-a-uuid')).toBeNull();
    expect(await store.get(a, "x' or 1=1 --")).toBeNull();
    expect(await store.list(b, 10)).toEqual([]);
  });

  it('lists newest first with a limit, without the bulky columns', async () => {
    const o = owner();
    const ids: string[] = [];
    for (const strategy of ['ema_cross', 'sma_cross', 'rsi_reversion']) {
      ids.push((await store.save(o, run({ strategy }))).id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const all = await store.list(o, 10);
    expect(all.map((r) => r.id)).toEqual([...ids].reverse());
    expect(all[0]).toMatchObject({ strategy: 'rsi_reversion', mode: 'single', symbol: 'BTC/USDT' });
    expect(all[0]).not.toHaveProperty('result');
    expect(all[0]).not.toHaveProperty('request');
    expect((await store.list(o, 2)).map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(await store.list(o, 0)).toHaveLength(1); // clamped to at least one
  });

  it('stores one run per request key and owner, and finds it by the key', async () => {
    const [a, b] = [owner(), owner()];
    expect(await store.getByRequestKey(a, 'job-7')).toBeNull();
    const first = await store.saveOnce(a, run(), 'job-7');
    expect(first.created).toBe(true);
    const second = await store.saveOnce(a, run({ strategy: 'sma_cross' }), 'job-7');
    expect(second).toEqual({ run: first.run, created: false });
    expect(await store.getByRequestKey(a, 'job-7')).toEqual(first.run);
    expect(await store.getByRequestKey(b, 'job-7')).toBeNull();
    const theirs = await store.saveOnce(b, run(), 'job-7');
    expect(theirs.created).toBe(true);
    expect(theirs.run.id).not.toBe(first.run.id);
    // Without a key every save is a run of its own.
    await store.save(a, run());
    await store.save(a, run());
    expect(await store.list(a, 10)).toHaveLength(3);
  });

  it('stores NaN as null and refuses bad times and modes', async () => {
    const o = owner();
    const saved = await store.save(o, run({ metrics: { sharpe: NaN, sortino: Infinity } }));
    expect(saved.metrics).toEqual({ sharpe: null, sortino: null });
    await expect(store.save(o, run({ period_start: 'yesterday' }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.save(o, run({ mode: 'bogus' as never }))).rejects.toThrow();
  });
});
