/**
 * The behaviour every `AnalysisArchive` adapter must have (Postgres JSONB on pg or PGlite, MongoDB), as
 * one `describe` block each adapter's test file runs with its own `open`. Not a test file by itself.
 *
 * `open` is called once for the block; tests keep out of each other's way by using their own symbols.
 * `setNow`, when given, sets the archive's clock (created_at and the 7-day cut-off).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_TTL_MS, type AnalysisArchive, type ArchivedAnalysis } from '../../src/store/types.js';

export interface OpenedArchive {
  archive: AnalysisArchive;
  setNow?: (ms: number) => void;
  cleanup: () => Promise<void>;
}

type Entry = Omit<ArchivedAnalysis, 'id' | 'created_at'>;
type Query = Parameters<AnalysisArchive['find']>[0];

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 15, 12); // candle times; unrelated to the archive clock

const HOSTILE = [
  '{"$ne":null}',
  '{"$gt":""}',
  "'; drop table analysis_archive; --",
  "BTC/USDT' or '1'='1",
  '$where',
  'this.confidence > 0',
  '.*',
  '%',
  '\\',
];

export function archiveContract(name: string, open: () => Promise<OpenedArchive>): void {
  describe(`AnalysisArchive contract: ${name}`, () => {
    let opened: OpenedArchive;
    let archive: AnalysisArchive;
    const run = randomUUID().slice(0, 8);
    /** A symbol only the calling test uses. */
    const sym = (label: string) => `${label.toUpperCase()}${run}/USDT`;

    function entry(overrides: Partial<Entry> = {}): Entry {
      return {
        symbol: sym('base'),
        exchange: 'binance',
        timeframe: '1h',
        timestamp: new Date(T0),
        confidence: 50,
        action: 'HOLD',
        report: { summary: 'test' },
        ...overrides,
      };
    }

    beforeAll(async () => {
      opened = await open();
      archive = opened.archive;
    });

    afterAll(async () => {
      await opened?.cleanup();
    });

    it('saves entries with unique ids and finds them newest first, fields intact', async () => {
      const symbol = sym('order');
      const before = Date.now();
      const ids: string[] = [];
      // Saved out of order: the order of `find` is by timestamp, not by insertion.
      for (const h of [2, 0, 3, 1]) {
        ids.push(
          await archive.save(
            entry({ symbol, timestamp: new Date(T0 + h * HOUR), confidence: 60 + h, action: `A${h}` }),
          ),
        );
      }
      expect(new Set(ids).size).toBe(4);
      for (const id of ids) expect(typeof id).toBe('string');

      const found = await archive.find({ symbol, limit: 10 });
      expect(found.map((f) => f.timestamp.getTime())).toEqual([3, 2, 1, 0].map((h) => T0 + h * HOUR));
      expect(found.map((f) => f.id).sort()).toEqual([...ids].sort());
      const newest = found[0]!;
      expect(newest).toMatchObject({
        id: ids[2],
        symbol,
        exchange: 'binance',
        timeframe: '1h',
        confidence: 63,
        action: 'A3',
        report: { summary: 'test' },
      });
      expect(newest.timestamp).toBeInstanceOf(Date);
      expect(newest.created_at).toBeInstanceOf(Date);
      if (!opened.setNow) {
        expect(newest.created_at.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      }
      expect(await archive.find({ symbol: sym('nothing-saved'), limit: 10 })).toEqual([]);
    });

    it('round-trips the report as JSON', async () => {
      const symbol = sym('report');
      const report = {
        recommendation: { action: 'BUY', confidence: 72, reasons: ['RSI < 30', 'bullish BOS', 'volume ↑'] },
        levels: [
          { price: 43_210.5, kind: 'support', touched: [T0, T0 + HOUR] },
          { price: 0.1 + 0.2, kind: 'tiny', touched: [] },
        ],
        numbers: { int: 42, neg: -7.25, small: 1e-7, big: 1.5e21, zero: 0, max: Number.MAX_SAFE_INTEGER },
        nulls: { value: null, list: [null, 1, null] },
        flags: [true, false],
        empty: { obj: {}, arr: [], str: '' },
        text: 'Ünïcødé — 日本語 — emoji 🚀📉 — "quotes" \\ back\\slash \n newline \t tab',
        deep: { a: { b: { c: { d: { e: ['f'] } } } } },
      };
      await archive.save(entry({ symbol, report }));
      const [found] = await archive.find({ symbol, limit: 1 });
      expect(found!.report).toEqual(report);
    });

    it('filters by symbol, timeframe, min_confidence and since, and honours limit', async () => {
      const a = sym('filter-a');
      const b = sym('filter-b');
      const rows: Entry[] = [
        entry({ symbol: a, timeframe: '1h', confidence: 40, timestamp: new Date(T0 + 1 * HOUR) }),
        entry({ symbol: a, timeframe: '4h', confidence: 70, timestamp: new Date(T0 + 2 * HOUR) }),
        entry({ symbol: a, timeframe: '1h', confidence: 80, timestamp: new Date(T0 + 3 * HOUR) }),
        entry({ symbol: a, timeframe: '1h', confidence: 90, timestamp: new Date(T0 + 4 * HOUR) }),
        entry({ symbol: b, timeframe: '1h', confidence: 95, timestamp: new Date(T0 + 5 * HOUR) }),
      ];
      for (const row of rows) await archive.save(row);
      const hours = (found: ArchivedAnalysis[]) => found.map((f) => (f.timestamp.getTime() - T0) / HOUR);

      expect(hours(await archive.find({ symbol: a, limit: 10 }))).toEqual([4, 3, 2, 1]);
      expect(hours(await archive.find({ symbol: b, limit: 10 }))).toEqual([5]);
      expect(hours(await archive.find({ symbol: a, timeframe: '1h', limit: 10 }))).toEqual([4, 3, 1]);
      expect(hours(await archive.find({ symbol: a, timeframe: '1d', limit: 10 }))).toEqual([]);
      // min_confidence and since are inclusive.
      expect(hours(await archive.find({ symbol: a, min_confidence: 80, limit: 10 }))).toEqual([4, 3]);
      expect(hours(await archive.find({ symbol: a, since: new Date(T0 + 2 * HOUR), limit: 10 }))).toEqual([
        4, 3, 2,
      ]);
      expect(
        hours(
          await archive.find({
            symbol: a,
            timeframe: '1h',
            min_confidence: 50,
            since: new Date(T0 + 3 * HOUR),
            limit: 10,
          }),
        ),
      ).toEqual([4, 3]);
      expect(hours(await archive.find({ symbol: a, limit: 2 }))).toEqual([4, 3]);
      // Without a symbol, every symbol matches the other filters.
      const high = await archive.find({ min_confidence: 95, since: new Date(T0 + 5 * HOUR), limit: 10 });
      expect(high.map((f) => f.symbol)).toContain(b);
      expect(high.every((f) => f.confidence >= 95)).toBe(true);
      // A null filter counts as absent (JSON callers send null).
      const nulls = { symbol: a, timeframe: null, min_confidence: null, since: null, limit: 10 };
      expect(hours(await archive.find(nulls as unknown as Query))).toEqual([4, 3, 2, 1]);
    });

    it('caps limit at 500', async () => {
      const symbol = sym('many');
      const saves = Array.from({ length: 505 }, (_, i) =>
        archive.save(entry({ symbol, timestamp: new Date(T0 + i * 60_000) })),
      );
      await Promise.all(saves);
      const found = await archive.find({ symbol, limit: 10_000 });
      expect(found).toHaveLength(500);
      expect(found[0]!.timestamp.getTime()).toBe(T0 + 504 * 60_000);
    });

    it('never returns entries archived more than 7 days ago', async (ctx) => {
      if (!opened.setNow) return ctx.skip();
      const symbol = sym('expiry');
      const now = Date.now();
      opened.setNow(now - ARCHIVE_TTL_MS - HOUR); // archived 7 days and 1 hour before `now`
      await archive.save(entry({ symbol, action: 'EXPIRED', timestamp: new Date(T0) }));
      opened.setNow(now - ARCHIVE_TTL_MS + HOUR); // 6 days and 23 hours before `now`
      await archive.save(entry({ symbol, action: 'KEPT-OLD', timestamp: new Date(T0 + HOUR) }));
      opened.setNow(now);
      await archive.save(entry({ symbol, action: 'FRESH', timestamp: new Date(T0 + 2 * HOUR) }));

      const found = await archive.find({ symbol, limit: 10 });
      expect(found.map((f) => f.action)).toEqual(['FRESH', 'KEPT-OLD']);
      // Also through the filters that do not name the symbol.
      const since = await archive.find({ since: new Date(T0), limit: 500 });
      expect(since.filter((f) => f.symbol === symbol).map((f) => f.action)).toEqual(['FRESH', 'KEPT-OLD']);
      // One more day: the middle one is over 7 days old too.
      opened.setNow(now + 2 * HOUR);
      expect((await archive.find({ symbol, limit: 10 })).map((f) => f.action)).toEqual(['FRESH']);
      opened.setNow(now);
    });

    it('treats hostile strings as plain values: they match nothing and break nothing', async () => {
      const symbol = sym('victim');
      await archive.save(entry({ symbol, confidence: 10 }));
      for (const s of HOSTILE) {
        expect(await archive.find({ symbol: s, limit: 10 }), s).toEqual([]);
        expect(await archive.find({ timeframe: s, limit: 10 }), s).toEqual([]);
        expect(await archive.find({ symbol, timeframe: s, limit: 10 }), s).toEqual([]);
      }
      // Still there, table and all.
      expect(await archive.find({ symbol, limit: 10 })).toHaveLength(1);
      // Keys that are not filters are ignored, not passed on.
      const extra = { symbol, limit: 10, $where: 'sleep(5000) || true', $or: [{}], where: '1=1' };
      expect(await archive.find(extra as unknown as Query)).toHaveLength(1);
      // Stored verbatim when they are the data, and found only by an exact match.
      const literal = `{"$ne":null}${run}`;
      await archive.save(entry({ symbol: literal, timeframe: "'; drop table analysis_archive; --" }));
      const found = await archive.find({ symbol: literal, limit: 10 });
      expect(found.map((f) => [f.symbol, f.timeframe])).toEqual([
        [literal, "'; drop table analysis_archive; --"],
      ]);
      expect(await archive.find({ symbol, limit: 10 })).toHaveLength(1);
    });

    it('rejects filter values of the wrong type with INVALID_ARGUMENT', async () => {
      const symbol = sym('typed');
      await archive.save(entry({ symbol }));
      const bad: Record<string, unknown>[] = [
        { symbol: { $ne: null } },
        { symbol: JSON.parse('{"$where":"this.confidence > 0"}') },
        { symbol: ['BTC/USDT'] },
        { symbol: 42 },
        { timeframe: { $gt: '' } },
        { timeframe: true },
        { min_confidence: { $gte: 0 } },
        { min_confidence: '50' },
        { min_confidence: NaN },
        { since: '2024-01-01T00:00:00Z' },
        { since: { $gt: new Date(0) } },
        { since: new Date(NaN) },
        { limit: '10' },
      ];
      for (const filter of bad) {
        const query = { symbol, limit: 10, ...filter } as unknown as Query;
        await expect(archive.find(query), JSON.stringify(filter)).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      expect(await archive.find({ symbol, limit: 10 })).toHaveLength(1);
    });

    it('reports its health', async () => {
      expect(await archive.health()).toMatchObject({
        name: 'archive',
        backend: archive.backend,
        status: 'ok',
      });
    });
  });
}
