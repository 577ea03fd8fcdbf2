/**
 * BacktestService on the offline snapshot and a real Postgres: single runs stored and fetched unchanged,
 * fills checked against the candles, walk-forward and grid out-of-sample honesty, clear errors, charts
 * as MCP images and over HTTP, and answers when the store is down.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGIES } from '../../src/core/backtest/strategies/index.js';
import { isAppError } from '../../src/errors.js';
import { loadHistory } from '../../src/market/history.js';
import { MarketData, timeframeMs } from '../../src/market/index.js';
import { chartsRouter } from '../../src/server/charts-route.js';
import {
  BacktestService,
  backtestImages,
  formatBacktestSummary,
  type BacktestAnswer,
  type BacktestRequest,
} from '../../src/services/backtest.js';
import { SqlBacktestRunStore } from '../../src/store/backtest-runs.js';
import { PgDatabase } from '../../src/store/pg-database.js';
import { AppError } from '../../src/errors.js';
import type { BacktestRunStore } from '../../src/store/types.js';
import { historicalBacktestInput, historicalBacktestOutput } from '../../src/tools/historical-backtest.js';
import { startFixtureExchange } from '../helpers/fixture-exchange.js';
import { isolatedPostgresUrl } from '../helpers/postgres.js';

const market = new MarketData({ mode: 'offline' });
let db: PgDatabase;
let drop: () => Promise<void>;
let svc: BacktestService;

beforeAll(async () => {
  const isolated = await isolatedPostgresUrl();
  drop = isolated.drop;
  db = new PgDatabase({ connectionString: isolated.url });
  svc = new BacktestService(market, new SqlBacktestRunStore(db));
});
afterAll(async () => {
  await svc.close();
  await db.close();
  await drop();
});

/** Arguments as the tool receives them: through the input schema, defaults applied. */
const request = (args: Record<string, unknown>): BacktestRequest =>
  historicalBacktestInput.parse(args) as BacktestRequest;

const MARCH = { symbol: 'BTCUSDT', timeframe: '1h', start: '2026-03-01', end: '2026-03-31' };

async function run(args: Record<string, unknown>, owner = 'owner-a'): Promise<BacktestAnswer> {
  const answer = await svc.run(request(args), owner);
  historicalBacktestOutput.parse(answer);
  return answer as BacktestAnswer;
}

/** The AppError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAppError(err)).toBe(true);
  return err as AppError;
}

describe('single runs', () => {
  it('runs a month of BTC 1h, stores it, and fetches exactly the same answer', async () => {
    const a = await run({ ...MARCH, strategy: 'ema_cross', params: { fast: 8, slow: 21 } });
    expect(a).toMatchObject({
      kind: 'run',
      symbol: 'BTC/USDT',
      timeframe: '1h',
      data_source: 'offline',
      exchange: 'binance',
      mode: 'single',
      strategy: 'ema_cross',
      params: { fast: 8, slow: 21 },
      first_candle: '2026-03-01T00:00:00.000Z',
      as_of: '2026-04-01T00:00:00.000Z',
    });
    expect(a.candles).toBe(31 * 24);
    expect(a.period).toMatchObject({ start: '2026-03-01T00:00:00.000Z', end: '2026-04-01T00:00:00.000Z' });
    expect(a.config).toMatchObject({
      fee_rate: 0.001,
      slippage: 0.0005,
      allow_short: false,
      warmup_bars: 1000,
    });
    expect(a.metrics.bars).toBe(744);
    expect(a.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.trades_total).toBeGreaterThan(0);
    expect(a.trades_total).toBe(a.metrics.trades);
    expect(a.equity.length).toBeLessThanOrEqual(500);

    const fetched = await run({ run_id: a.run_id });
    const { data_age_ms: _a, notes: notesA, ...restA } = a;
    const { data_age_ms: _b, notes: notesB, ...restB } = fetched as BacktestAnswer;
    expect(restB).toEqual(restA);
    expect(notesB.slice(0, notesA.length)).toEqual(notesA);
    expect(notesB.at(-1)).toMatch(/Stored run fetched/);
    // Another key cannot see it.
    const other = await failure(svc.run(request({ run_id: a.run_id }), 'owner-b'));
    expect(other.code).toBe('NOT_FOUND');
  });

  it('fills at the next open with slippage and fees, and adds up to the final equity', async () => {
    const a = await run({ ...MARCH, strategy: 'sma_cross', fee_rate: 0.002, slippage: 0.001 });
    const series = await loadHistory(market, {
      symbol: 'BTC/USDT',
      timeframe: '1h',
      start: Date.parse('2026-03-01'),
      end: Date.parse('2026-04-01'),
    });
    const openAt = new Map<number, number>();
    series.candles.time.forEach((t, i) => openAt.set(t, series.candles.open[i]!));
    let pnl = 0;
    for (const t of a.trades) {
      expect(t.side).toBe('long');
      const open = openAt.get(Date.parse(t.entry_time));
      expect(open).toBeDefined();
      expect(t.entry_price).toBeCloseTo(open! * 1.001, 4);
      const exitNotional = t.exit_price * t.quantity;
      expect(t.fees).toBeCloseTo(0.002 * (t.entry_price * t.quantity + exitNotional), 4);
      pnl += t.pnl;
    }
    expect(a.trades_total).toBe(a.trades.length); // all shown: fewer than 200
    expect(a.metrics.final_equity).toBeCloseTo(10_000 + pnl, 4);
    const last = a.equity.at(-1)!;
    expect(last.time).toBe('2026-04-01T00:00:00.000Z');
    expect(last.equity).toBeCloseTo(a.metrics.final_equity, 4);
    expect(a.equity[0]).toMatchObject({ time: '2026-03-01T00:00:00.000Z', equity: 10_000, drawdown_pct: 0 });
    expect(Math.max(...a.equity.map((p) => p.drawdown_pct))).toBeCloseTo(a.metrics.max_drawdown_pct, 4);
  });

  it('keeps the deepest drawdown when a year of candles is downsampled to 500 points', async () => {
    const a = await run({
      symbol: 'BTCUSDT',
      timeframe: '1h',
      strategy: 'rsi_reversion',
      start: '2025-05-01',
      end: '2026-04-30',
      allow_short: true,
      stop_loss_pct: 0.03,
      sizing: 'risk_per_trade',
      risk_per_trade_pct: 1,
    });
    expect(a.candles).toBe(365 * 24);
    expect(a.equity.length).toBeLessThanOrEqual(500);
    expect(Math.max(...a.equity.map((p) => p.drawdown_pct))).toBeCloseTo(a.metrics.max_drawdown_pct, 4);
    expect(a.config.sizing).toEqual({ mode: 'risk_per_trade', fraction: null, risk_pct: 1 });
    expect(a.trades.some((t) => t.side === 'short')).toBe(true);
    expect(a.trades.every((t) => t.stop_price !== null)).toBe(true);
    expect(formatBacktestSummary(a)).toMatch(/^Backtest BTC\/USDT 1h, rsi_reversion \(single\)/);
  });

  it('runs every named strategy and a JSON rule strategy', async () => {
    for (const s of STRATEGIES.filter((x) => x.name !== 'rules')) {
      const a = await run({ ...MARCH, strategy: s.name });
      expect(a.strategy).toBe(s.name);
    }
    const spec = {
      entry_long: { left: 'close', op: 'crosses_above', right: 'ema(50)' },
      exit_long: { left: 'close', op: 'crosses_below', right: 'ema(50)' },
      stop_loss_pct: 0.02,
      take_profit_pct: 0.04,
    };
    const a = await run({ ...MARCH, strategy: 'rules', spec });
    expect(a.params).toEqual(spec);
    expect(a.config).toMatchObject({ stop_loss_pct: 0.02, take_profit_pct: 0.04 });
    expect(
      a.trades.every((t) => ['signal', 'stop_loss', 'take_profit', 'end_of_data'].includes(t.exit_reason)),
    ).toBe(true);
  });
});

describe('out of sample', () => {
  it('walk-forward: each test window follows its training window and they tile in order', async () => {
    const a = await run({
      symbol: 'BTCUSDT',
      strategy: 'ema_cross',
      start: '2025-06-01',
      end: '2026-03-31',
      mode: 'walk_forward',
      windows: 4,
      param_grid: { fast: [5, 12], slow: [26, 50] },
    });
    expect(a.windows).toHaveLength(4);
    const w = a.windows!;
    for (const [k, win] of w.entries()) {
      expect(Date.parse(win.train.end)).toBeLessThanOrEqual(Date.parse(win.test.start));
      expect(Date.parse(win.train.start)).toBeGreaterThanOrEqual(Date.parse(a.period.start));
      expect(win.test.bars).toBe(w[0]!.test.bars);
      if (k > 0) expect(win.test.start).toBe(w[k - 1]!.test.end);
      expect([5, 12]).toContain(win.params.fast);
    }
    expect(a.period.traded).toMatchObject({ start: w[0]!.test.start, end: w.at(-1)!.test.end });
    expect(a.metrics.start).toBe(w[0]!.test.start);
    expect(a.metrics.bars).toBe(w.reduce((s, x) => s + x.test.bars, 0));
    // Capital chains: the headline return compounds the windows' returns.
    const chained = w.reduce((g, x) => g * (1 + x.out_of_sample.total_return_pct / 100), 1);
    expect(a.metrics.total_return_pct).toBeCloseTo((chained - 1) * 100, 2);
    for (const t of a.trades)
      expect(Date.parse(t.entry_time)).toBeGreaterThanOrEqual(Date.parse(w[0]!.test.start));
  });

  it('grid: ranks on the training part and reports the untouched test part', async () => {
    const a = await run({
      symbol: 'BTCUSDT',
      strategy: 'sma_cross',
      start: '2025-06-01',
      end: '2026-03-31',
      mode: 'grid',
      train_fraction: 0.7,
      rank_by: 'total_return',
      param_grid: { fast: [5, 10, 20, 50], slow: [20, 50, 100] },
    });
    const g = a.grid!;
    expect(g.combinations).toBe(12);
    expect(g.skipped_invalid).toBe(3); // fast >= slow
    expect(g.in_sample.end).toBe(g.out_of_sample.start);
    expect(g.in_sample.bars + g.out_of_sample.bars).toBe(a.candles);
    expect(g.table.length).toBe(9);
    const returns = g.table.map((r) => r.in_sample.total_return_pct);
    expect(returns).toEqual([...returns].sort((x, y) => y - x));
    expect(a.params).toMatchObject(g.table[0]!.params);
    expect(a.metrics.start).toBe(g.out_of_sample.start);
    expect(a.metrics.total_return_pct).toBe(g.table[0]!.out_of_sample.total_return_pct);
    for (const t of a.trades)
      expect(Date.parse(t.entry_time)).toBeGreaterThanOrEqual(Date.parse(g.out_of_sample.start));
    expect(a.notes.join(' ')).toMatch(/In sample .* out of sample/);
    // In sample is measured as a single run over the training part is: warmed up on the bars before it,
    // so the slow combinations trade from its first candle too.
    for (const row of [g.table[0]!, g.table.find((r) => r.params.slow === 100)!]) {
      const single = await run({
        symbol: 'BTCUSDT',
        strategy: 'sma_cross',
        start: g.in_sample.start,
        end: g.in_sample.end,
        params: row.params,
      });
      expect(single.candles).toBe(g.in_sample.bars);
      expect(row.in_sample).toMatchObject({
        total_return_pct: single.metrics.total_return_pct,
        trades: single.metrics.trades,
      });
    }
  });

  it('anchored walk-forward grows its training windows from the period start; progress and cancel work', async () => {
    const args = {
      symbol: 'ETHUSDT',
      strategy: 'donchian_breakout',
      start: '2025-06-01',
      end: '2026-03-31',
      mode: 'walk_forward',
      anchored: true,
      windows: 3,
    };
    const a = await run(args);
    for (const w of a.windows!) expect(w.train.start).toBe(a.period.start);
    expect(a.windows!.map((w) => w.train.bars)).toEqual(
      [...a.windows!.map((w) => w.train.bars)].sort((x, y) => x - y),
    );
    expect(a.windows!.every((w) => w.params.entry === 20)).toBe(true); // no grid: the given parameters

    const seen: number[] = [];
    await svc.run(
      request({ ...args, mode: 'grid', param_grid: { entry: [10, 20, 30], exit: [5, 10] } }),
      'o',
      {
        progress: (done) => seen.push(done),
      },
    );
    expect(seen.at(-1)).toBe(6);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await failure(
      svc.run(request({ ...args, mode: 'grid', param_grid: { entry: [10, 20] } }), 'o', {
        signal: controller.signal,
      }),
    );
    expect(cancelled.message).toMatch(/cancelled/);
  });

  it('grid over a rule spec varies its stop with each combination', async () => {
    const a = await run({
      ...MARCH,
      start: '2026-01-01',
      strategy: 'rules',
      mode: 'grid',
      spec: { entry_long: { left: 'rsi(14)', op: 'crosses_above', right: 30 }, stop_loss_pct: 0.05 },
      param_grid: { stop_loss_pct: [0.01, 0.03, 0.08] },
    });
    const stops = a.grid!.table.map((r) => r.params.stop_loss_pct).sort();
    expect(stops).toEqual([0.01, 0.03, 0.08]);
    expect(a.config.stop_loss_pct).toBe(a.grid!.best_params.stop_loss_pct);
    const trades = new Set(a.grid!.table.map((r) => r.in_sample.trades));
    expect(trades.size).toBeGreaterThan(1); // different stops, different trades
  });
});

describe('errors that say what to fix', () => {
  it('refuses a request over its CPU budget before running anything, and says how to shrink it', async () => {
    // smc_structure redoes its analysis per combination: 40 x 50 = 2 000 combinations over two years of
    // 1h bars (about 16 000 in the training part) at 20 times the cost is beyond one request's budget.
    const err = await failure(
      svc.run(
        request({
          symbol: 'BTCUSDT',
          strategy: 'smc_structure',
          mode: 'grid',
          start: '2024-07-01',
          end: '2026-06-01',
          param_grid: {
            swing_length: Array.from({ length: 40 }, (_, i) => i + 1),
            target_r: Array.from({ length: 50 }, (_, i) => 1 + i / 10),
          },
        }),
        'o',
      ),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/bar evaluations; at most 400M per request\). Use fewer param_grid values/);
  });

  it('names the available range for a period outside the data', async () => {
    const info = (await market.snapshot.index()).symbols.find((x) => x.symbol === 'BTC/USDT')!;
    const range =
      `cover ${new Date(info.firstTime).toISOString()} (first open) to ` +
      `${new Date(info.lastTime + 3_600_000).toISOString()} (last close)`;
    const early = await failure(
      svc.run(request({ ...MARCH, strategy: 'ema_cross', start: '2019-01-01', end: '2019-02-01' }), 'o'),
    );
    expect(early.code).toBe('INVALID_ARGUMENT');
    expect(early.message).toContain(range);
    const late = await failure(svc.run(request({ ...MARCH, strategy: 'ema_cross', end: '2030-01-01' }), 'o'));
    expect(late.code).toBe('INVALID_ARGUMENT');
    expect(late.message).toContain(range);
  });

  it('lists the strategies for an unknown one', async () => {
    const err = await failure(svc.run(request({ ...MARCH, strategy: 'macd_magic' }), 'o'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    for (const name of [
      'smc_structure',
      'ema_cross',
      'rsi_reversion',
      'donchian_breakout',
      'bollinger_reversion',
      'sma_cross',
      'rules',
    ]) {
      expect(err.message).toContain(name);
    }
  });

  it('points at the exact problem in a bad rule spec', async () => {
    const bad = await failure(
      svc.run(
        request({
          ...MARCH,
          strategy: 'rules',
          spec: {
            entry_long: {
              all: [
                { left: 'close', op: '>', right: 'ema(20)' },
                { left: 'emaa(20)', op: '>', right: 1 },
              ],
            },
          },
        }),
        'o',
      ),
    );
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/spec\.entry_long\.all\.1\.left: unknown series "emaa\(20\)"/);
    const noEntry = await failure(
      svc.run(request({ ...MARCH, strategy: 'rules', spec: { exit_long: { is: 'choch_bearish' } } }), 'o'),
    );
    expect(noEntry.message).toMatch(/entry_long or entry_short/);
    const missing = await failure(svc.run(request({ ...MARCH, strategy: 'rules' }), 'o'));
    expect(missing.message).toMatch(/needs spec/);
  });

  it('names bad parameters and the ones that exist', async () => {
    const typo = await failure(
      svc.run(request({ ...MARCH, strategy: 'ema_cross', params: { fastt: 5 } }), 'o'),
    );
    expect(typo.message).toMatch(
      /ema_cross has no parameter "fastt"; its parameters: fast \(default 12\), slow \(default 26\)/,
    );
    const order = await failure(
      svc.run(request({ ...MARCH, strategy: 'ema_cross', params: { fast: 30, slow: 20 } }), 'o'),
    );
    expect(order.message).toMatch(/params\.fast: fast must be shorter than slow/);
    const grid = await failure(
      svc.run(
        request({ ...MARCH, strategy: 'ema_cross', mode: 'grid', param_grid: { fast: [1, 2], speed: [3] } }),
        'o',
      ),
    );
    expect(grid.message).toMatch(/param_grid: ema_cross has no parameter "speed"/);
    const big = await failure(
      svc.run(
        request({
          ...MARCH,
          strategy: 'rsi_reversion',
          mode: 'grid',
          param_grid: {
            period: Array.from({ length: 20 }, (_, i) => i + 2),
            oversold: Array.from({ length: 20 }, (_, i) => i + 10),
            overbought: Array.from({ length: 20 }, (_, i) => i + 60),
          },
        }),
        'o',
      ),
    );
    expect(big.message).toMatch(/8000 combinations .* at most 5000/);
    expect(() => request({ ...MARCH, strategy: 'ema_cross', mode: 'grid' })).toThrow(
      /mode grid needs param_grid/,
    );
    const tooShort = await failure(
      svc.run(
        request({
          ...MARCH,
          start: '2026-03-01',
          end: '2026-03-02',
          strategy: 'ema_cross',
          mode: 'walk_forward',
        }),
        'o',
      ),
    );
    expect(tooShort.code).toBe('INSUFFICIENT_DATA');
  });
});

describe('storage, comparison and charts', () => {
  it('answers with run_id null and a note when the store is down', async () => {
    const down: BacktestRunStore = {
      save: () => Promise.reject(new AppError('STORE_UNAVAILABLE', 'The database is unreachable.')),
      get: () => Promise.reject(new AppError('STORE_UNAVAILABLE', 'The database is unreachable.')),
      list: () => Promise.resolve([]),
      saveOnce: () => Promise.reject(new AppError('STORE_UNAVAILABLE', 'The database is unreachable.')),
      getByRequestKey: () =>
        Promise.reject(new AppError('STORE_UNAVAILABLE', 'The database is unreachable.')),
    };
    const offline = new BacktestService(market, down);
    const a = (await offline.run(
      request({ ...MARCH, strategy: 'ema_cross', charts: 'svg' }),
      'o',
    )) as BacktestAnswer;
    historicalBacktestOutput.parse(a);
    expect(a.run_id).toBeNull();
    expect(a.charts).toEqual({ equity_url: null, price_url: null, format: 'svg' });
    expect(a.notes.join(' ')).toMatch(/could not be stored \(The database is unreachable\.\)/);
    expect(backtestImages(a).map((i) => i.mimeType)).toEqual(['image/svg+xml', 'image/svg+xml']);
  });

  it('stores a job run again under the same request key once, and answers with that run', async () => {
    // BullMQ runs a tool job a second time when its worker lost the lock; the job id is the key.
    const store = new SqlBacktestRunStore(db);
    let saves = 0;
    const counting: BacktestRunStore = {
      get: (o, id) => store.get(o, id),
      list: (o, n) => store.list(o, n),
      getByRequestKey: (o, k) => store.getByRequestKey(o, k),
      save: (o, r) => store.save(o, r),
      saveOnce: (o, r, k) => (saves++, store.saveOnce(o, r, k)),
    };
    const jobs = new BacktestService(market, counting);
    const owner = `owner-${crypto.randomUUID()}`;
    const req = request({ ...MARCH, strategy: 'ema_cross' });
    const first = (await jobs.run(req, owner, { requestKey: 'job-1' })) as BacktestAnswer;
    const again = (await jobs.run(req, owner, { requestKey: 'job-1' })) as BacktestAnswer;
    historicalBacktestOutput.parse(again);
    expect(again.run_id).toBe(first.run_id);
    expect(again.metrics).toEqual(first.metrics);
    expect(saves).toBe(1); // found by its key: not computed and stored again
    // Two runs of one job at once both compute; the second save finds the first's row.
    const [x, y] = (await Promise.all([
      jobs.run(req, owner, { requestKey: 'job-2' }),
      jobs.run(req, owner, { requestKey: 'job-2' }),
    ])) as BacktestAnswer[];
    expect(y!.run_id).toBe(x!.run_id);
    // The other run of the job stores between this one's look-up and its save: the answer is the
    // stored run, whose numbers may differ (here: another strategy), never this run's under its id.
    const stored = (await jobs.run(request({ ...MARCH, strategy: 'donchian_breakout' }), owner, {
      requestKey: 'job-4',
    })) as BacktestAnswer;
    const late = new BacktestService(market, { ...counting, getByRequestKey: () => Promise.resolve(null) });
    const raced = (await late.run(req, owner, { requestKey: 'job-4' })) as BacktestAnswer;
    expect(raced.run_id).toBe(stored.run_id);
    expect(raced.strategy).toBe('donchian_breakout');
    expect(raced.metrics).toEqual(stored.metrics);
    await late.close();
    // Another job of the same request is another run; another owner's key is its own.
    const other = (await jobs.run(req, owner, { requestKey: 'job-3' })) as BacktestAnswer;
    const stranger = (await jobs.run(req, `${owner}-b`, { requestKey: 'job-1' })) as BacktestAnswer;
    expect(new Set([first.run_id, x!.run_id, other.run_id, stranger.run_id]).size).toBe(4);
    expect(await store.list(owner, 10)).toHaveLength(4);
    await jobs.close();
  });

  it('compares stored runs and names the best by each measure', async () => {
    const x = await run({ ...MARCH, strategy: 'ema_cross' });
    const y = await run({ ...MARCH, strategy: 'donchian_breakout' });
    const c = await svc.run(request({ compare_run_ids: [x.run_id, y.run_id] }), 'owner-a');
    historicalBacktestOutput.parse(c);
    if (c.kind !== 'comparison') throw new Error('expected a comparison');
    expect(c.comparison.runs.map((r) => r.run_id)).toEqual([x.run_id, y.run_id]);
    const best = x.metrics.total_return_pct >= y.metrics.total_return_pct ? x : y;
    expect(c.comparison.best.total_return_pct).toBe(best.run_id);
    expect(c.comparison.runs[0]!.metrics.sharpe).toBe(x.metrics.sharpe);
    const missing = await failure(
      svc.run(request({ compare_run_ids: [x.run_id, crypto.randomUUID()] }), 'owner-a'),
    );
    expect(missing.code).toBe('NOT_FOUND');
  });

  it('attaches PNG charts as images, and serves them over HTTP to their owner only', async () => {
    const a = await run({ ...MARCH, strategy: 'smc_structure', charts: 'png' });
    const images = backtestImages(a);
    expect(images).toHaveLength(2);
    for (const img of images) {
      expect(img.mimeType).toBe('image/png');
      expect(Buffer.from(img.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    }
    expect(a.charts?.equity_url).toBe(`/charts/backtests/${a.run_id}/equity.png`);

    const app = express();
    app.use((req, _res, next) => {
      const key = req.headers['x-test-key'];
      if (typeof key === 'string') (req as unknown as { auth: object }).auth = { clientId: key };
      next();
    });
    app.use(chartsRouter({ backtest: svc } as never));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const png = await fetch(`${base}${a.charts!.equity_url}`, { headers: { 'x-test-key': 'owner-a' } });
      expect(png.status).toBe(200);
      expect(png.headers.get('content-type')).toBe('image/png');
      expect(
        Buffer.from(await png.arrayBuffer())
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
      const svg = await fetch(`${base}/charts/backtests/${a.run_id}/price.svg`, {
        headers: { 'x-test-key': 'owner-a' },
      });
      expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      const body = await svg.text();
      expect(body.split('class="exit"').length - 1).toBe(a.trades_total);
      const stranger = await fetch(`${base}${a.charts!.equity_url}`, {
        headers: { 'x-test-key': 'owner-b' },
      });
      expect(stranger.status).toBe(404);
      const bad = await fetch(`${base}/charts/backtests/${a.run_id}/equity.gif`);
      expect(bad.status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('loadHistory', () => {
  it('slices the snapshot by time with warm-up before the period', async () => {
    const s = await loadHistory(market, {
      symbol: 'ETHUSDT',
      timeframe: '4h',
      start: Date.parse('2025-02-01T00:00:00Z'),
      end: Date.parse('2025-03-01T00:00:00Z'),
      warmupBars: 100,
    });
    expect(s.warmup).toBe(100);
    expect(s.candles.time[s.warmup]).toBe(Date.parse('2025-02-01T00:00:00Z'));
    expect(s.candles.time.length - s.warmup).toBe(28 * 6);
    expect(s.asOf).toBe(Date.parse('2025-03-01T00:00:00Z'));
    for (let i = 1; i < s.candles.time.length; i++) {
      expect(s.candles.time[i]! - s.candles.time[i - 1]!).toBe(timeframeMs('4h'));
    }
  });

  it('defaults to the last year of data, and refuses a period without a whole candle', async () => {
    const s = await loadHistory(market, { symbol: 'BTCUSDT', timeframe: '1h' });
    expect(s.candles.time.length).toBe(365 * 24);
    expect(s.asOf).toBe(await market.snapshot.lastClose('BTC/USDT'));
    const gap = await failure(
      loadHistory(market, {
        symbol: 'BTCUSDT',
        timeframe: '1h',
        start: Date.parse('2026-01-01T00:10:00Z'),
        end: Date.parse('2026-01-01T00:50:00Z'),
      }),
    );
    expect(gap.code).toBe('INSUFFICIENT_DATA');
  });

  it('pages live candles beyond 10 000 through the exchange, equal to the same data offline', async () => {
    const fx = await startFixtureExchange();
    try {
      const live = new MarketData({ mode: 'exchange', exchangeOptions: { baseUrl: fx.baseUrl, retries: 0 } });
      const start = Date.parse('2025-01-01T00:00:00Z');
      const end = Date.parse('2026-04-01T00:00:00Z');
      const s = await loadHistory(live, { symbol: 'BTCUSDT', timeframe: '1h', start, end, warmupBars: 500 });
      const o = await loadHistory(market, {
        symbol: 'BTCUSDT',
        timeframe: '1h',
        start,
        end,
        warmupBars: 500,
      });
      expect(s.source).toBe('exchange');
      expect(s.candles.time.length).toBeGreaterThan(10_000);
      expect(s.warmup).toBe(500);
      expect([...s.candles.time]).toEqual([...o.candles.time]);
      expect([...s.candles.close]).toEqual([...o.candles.close]);
      expect(fx.requests.filter((r) => r.includes('/klines')).length).toBeLessThan(20);

      const info = (await market.snapshot.index()).symbols.find((x) => x.symbol === 'BTC/USDT')!;
      const early = await failure(
        loadHistory(live, { symbol: 'BTCUSDT', timeframe: '1d', start: Date.parse('2020-01-01'), end }),
      );
      expect(early.code).toBe('INVALID_ARGUMENT');
      expect(early.message).toContain(`cover ${new Date(info.firstTime).toISOString()} (first open)`);
      const future = await failure(
        loadHistory(live, { symbol: 'BTCUSDT', timeframe: '1h', end: fx.now + 86_400_000 }),
      );
      expect(future.message).toMatch(
        /is after the data: the last closed 1h candle of BTC\/USDT on binance closed/,
      );
    } finally {
      await fx.close();
    }
  });
});
