/** SqlPortfolioStore on a real PostgreSQL and on PGlite: the same behaviour, exactly. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlPortfolioStore } from '../../src/store/portfolio-store.js';
import type { Position } from '../../src/store/types.js';
import { SQL_BACKENDS, type TestDatabase } from '../helpers/postgres.js';

const pos = (
  symbol: string,
  quantity: number,
  entry_price: number,
  extra: Partial<Position> = {},
): Position => ({
  symbol,
  quantity,
  entry_price,
  entry_time: null,
  fees: 0,
  ...extra,
});

describe.each(SQL_BACKENDS)('SqlPortfolioStore on $backend', ({ open }) => {
  let t: TestDatabase;
  let store: SqlPortfolioStore;
  /** An owner only the calling test uses. */
  const owner = () => `owner-${randomUUID()}`;

  beforeAll(async () => {
    t = await open();
    store = new SqlPortfolioStore(t.db);
  });
  afterAll(() => t?.close());

  it('returns null for an unknown portfolio, and creates one with defaults', async () => {
    const o = owner();
    expect(await store.get(o, 'main')).toBeNull();
    const created = await store.replace(o, 'main', { positions: [] });
    expect(created).toMatchObject({ id: 'main', base_currency: 'USDT', cash: 0, positions: [] });
    expect(new Date(created.created_at).toISOString()).toBe(created.created_at);
    expect(created.updated_at).toBe(created.created_at);
    expect(await store.get(o, 'main')).toEqual(created);
  });

  it('replace swaps all positions (sorted by symbol), keeps cash and currency unless given, bumps updated_at', async () => {
    const o = owner();
    const first = await store.replace(o, 'p', {
      positions: [pos('SOL/USDT', 10, 150), pos('BTC/USDT', 0.5, 60_000, { fees: 12.5 })],
      cash: 1_000,
      base_currency: 'USDC',
    });
    expect(first.positions.map((p) => p.symbol)).toEqual(['BTC/USDT', 'SOL/USDT']);
    expect(first).toMatchObject({ cash: 1_000, base_currency: 'USDC' });
    await new Promise((r) => setTimeout(r, 5));

    const second = await store.replace(o, 'p', {
      positions: [pos('ETH/USDT', 2, 3_000, { entry_time: '2024-03-01T10:00:00.000Z' })],
    });
    expect(second.positions).toEqual([pos('ETH/USDT', 2, 3_000, { entry_time: '2024-03-01T10:00:00.000Z' })]);
    expect(second).toMatchObject({ cash: 1_000, base_currency: 'USDC', created_at: first.created_at });
    expect(Date.parse(second.updated_at)).toBeGreaterThan(Date.parse(first.updated_at));

    const third = await store.replace(o, 'p', { positions: [], cash: 0 });
    expect(third).toMatchObject({ cash: 0, positions: [] });
  });

  it('upsert adds and replaces by symbol, keeps the others, and quantity 0 removes', async () => {
    const o = owner();
    await store.replace(o, 'p', { positions: [pos('BTC/USDT', 1, 50_000), pos('ETH/USDT', 3, 2_000)] });
    const after = await store.upsert(o, 'p', {
      positions: [pos('ETH/USDT', 4, 2_500, { fees: 1 }), pos('ADA/USDT', 100, 0.45), pos('BTC/USDT', 0, 1)],
    });
    expect(after.positions).toEqual([pos('ADA/USDT', 100, 0.45), pos('ETH/USDT', 4, 2_500, { fees: 1 })]);
    // Removing a symbol that is not held is not an error; upsert creates a missing portfolio.
    await store.upsert(o, 'p', { positions: [pos('XRP/USDT', 0, 1)] });
    const created = await store.upsert(o, 'new', { positions: [pos('DOT/USDT', 5, 7)], cash: 5 });
    expect(created).toMatchObject({ id: 'new', cash: 5, positions: [pos('DOT/USDT', 5, 7)] });
    // In replace, quantity 0 also means "no position".
    expect((await store.replace(o, 'p', { positions: [pos('BTC/USDT', 0, 1)] })).positions).toEqual([]);
  });

  it('stores NUMERIC amounts exactly', async () => {
    const o = owner();
    const values = [0.00012345, 123456789.123456, 0.1 + 0.2, 1e-7, 98765432109.87654, 5e-324 * 1e300];
    const positions = values.map((v, i) => pos(`S${i}/USDT`, v, v, { fees: v }));
    const saved = await store.replace(o, 'exact', { positions, cash: 0.00012345 });
    const read = await store.get(o, 'exact');
    expect(read).toEqual(saved);
    expect(read!.cash).toBe(0.00012345);
    for (const [i, v] of values.entries()) {
      expect(read!.positions[i]).toEqual(pos(`S${i}/USDT`, v, v, { fees: v }));
    }
  });

  it('rolls a failing write back entirely: the old positions stay', async () => {
    const o = owner();
    const before = await store.replace(o, 'p', { positions: [pos('BTC/USDT', 1, 50_000)], cash: 10 });
    // The CHECK (quantity > 0) fails on the second insert, after the delete and the first insert ran.
    const bad = [pos('ETH/USDT', 1, 2_000), pos('SOL/USDT', -1, 100)];
    await expect(store.replace(o, 'p', { positions: bad, cash: 20 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.upsert(o, 'p', { positions: bad })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      store.replace(o, 'p', { positions: [pos('ETH/USDT', 1, 2_000, { entry_time: 'yesterday-ish' })] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.replace(o, 'p', { positions: [], cash: -1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await store.get(o, 'p')).toEqual(before);
  });

  it('refuses non-finite amounts and duplicate symbols before touching the database', async () => {
    const o = owner();
    for (const v of [NaN, Infinity, -Infinity]) {
      await expect(store.replace(o, 'p', { positions: [pos('BTC/USDT', v, 1)] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(store.upsert(o, 'p', { positions: [], cash: v })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
    await expect(
      store.upsert(o, 'p', { positions: [pos('BTC/USDT', 1, 1), pos('BTC/USDT', 2, 1)] }),
    ).rejects.toThrow(/listed twice/);
    expect(await store.get(o, 'p')).toBeNull();
  });

  it('scopes everything by owner', async () => {
    const alice = owner();
    const bob = owner();
    await store.replace(alice, 'shared-id', { positions: [pos('BTC/USDT', 1, 50_000)], cash: 1 });
    expect(await store.get(bob, 'shared-id')).toBeNull();
    expect(await store.list(bob)).toEqual([]);
    expect(await store.delete(bob, 'shared-id')).toBe(false);

    // Bob's portfolio of the same id is a different one; writing it leaves Alice's alone.
    await store.replace(bob, 'shared-id', { positions: [pos('ETH/USDT', 2, 2_000)] });
    await store.upsert(bob, 'shared-id', { positions: [pos('BTC/USDT', 0, 1)], cash: 99 });
    expect((await store.get(alice, 'shared-id'))!.positions.map((p) => p.symbol)).toEqual(['BTC/USDT']);
    expect((await store.get(alice, 'shared-id'))!.cash).toBe(1);
    expect((await store.get(bob, 'shared-id'))!.positions.map((p) => p.symbol)).toEqual(['ETH/USDT']);

    expect(await store.delete(bob, 'shared-id')).toBe(true);
    expect(await store.get(bob, 'shared-id')).toBeNull();
    expect(await store.get(alice, 'shared-id')).not.toBeNull();
  });

  it("lists an owner's portfolios by id with their position counts, and deletes with positions", async () => {
    const o = owner();
    await store.replace(o, 'b', { positions: [pos('BTC/USDT', 1, 1), pos('ETH/USDT', 1, 1)] });
    await store.replace(o, 'a', { positions: [] });
    await store.replace(o, 'B', { positions: [pos('SOL/USDT', 1, 1)] });
    const list = await store.list(o);
    expect(list.map((p) => [p.id, p.positions])).toEqual([
      ['B', 1],
      ['a', 0],
      ['b', 2],
    ]);
    expect(list[0]!.updated_at).toBe((await store.get(o, 'B'))!.updated_at);

    expect(await store.delete(o, 'b')).toBe(true);
    expect(await store.delete(o, 'b')).toBe(false);
    const orphans = await t.db.query('select 1 from positions where owner = $1 and portfolio_id = $2', [
      o,
      'b',
    ]);
    expect(orphans).toEqual([]);
    // Recreating it starts empty: the old positions went with the portfolio.
    expect((await store.upsert(o, 'b', { positions: [] })).positions).toEqual([]);
  });

  it('stores hostile ids and symbols verbatim and runs none of them', async () => {
    const hostile = [
      "x'); drop table portfolios; --",
      '$1',
      '$2::text; delete from positions',
      "' or '1'='1",
      'Robert"); drop table positions;--',
      '\\',
      '%_*',
      'Ünïcødé 日本語 🚀',
      ' leading and trailing ',
    ];
    const o = `${owner()} '; drop table audit_log; --`;
    for (const id of hostile) {
      const positions = hostile.map((symbol, i) => pos(symbol, i + 1, 1));
      const saved = await store.replace(o, id, { positions, base_currency: id });
      expect(saved.id).toBe(id);
      expect(saved.base_currency).toBe(id);
      expect((await store.get(o, id))!.positions.map((p) => p.symbol).sort()).toEqual([...hostile].sort());
      await store.upsert(o, id, { positions: [pos(hostile[0]!, 0, 1)] });
      expect((await store.get(o, id))!.positions).toHaveLength(hostile.length - 1);
    }
    expect((await store.list(o)).map((p) => p.id).sort()).toEqual([...hostile].sort());
    for (const table of ['portfolios', 'positions', 'audit_log']) {
      expect(await t.db.query(`select count(*)::int as n from ${table}`)).toHaveLength(1);
    }
    expect(await store.delete(o, hostile[0]!)).toBe(true);
    expect(await store.list(o)).toHaveLength(hostile.length - 1);
  });

  it('sorts positions by code point on both backends, not by a locale', async () => {
    const o = owner();
    const symbols = ['b/USDT', 'B/USDT', 'a/USDT', 'É/USDT', 'Z/USDT', '1/USDT'];
    const saved = await store.replace(o, 'sorted', { positions: symbols.map((s) => pos(s, 1, 1)) });
    expect(saved.positions.map((p) => p.symbol)).toEqual([
      '1/USDT',
      'B/USDT',
      'Z/USDT',
      'a/USDT',
      'b/USDT',
      'É/USDT',
    ]);
  });
});
