/** SqlAuditLog on a real PostgreSQL and on PGlite. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AUDIT_ARGS_BYTES, SqlAuditLog } from '../../src/store/audit-log.js';
import type { AuditEntry } from '../../src/store/types.js';
import { SQL_BACKENDS, type TestDatabase } from '../helpers/postgres.js';

const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  tool: 'analyze_crypto',
  caller: 'local',
  transport: 'stdio',
  args: { symbol: 'BTC/USDT', timeframe: '1h' },
  duration_ms: 42,
  status: 'ok',
  error: null,
  ...overrides,
});

describe.each(SQL_BACKENDS)('SqlAuditLog on $backend', ({ open }) => {
  let t: TestDatabase;
  let audit: SqlAuditLog;

  beforeAll(async () => {
    t = await open();
    audit = new SqlAuditLog(t.db);
  });
  afterAll(() => t?.close());

  it('records entries and returns the newest first, fields intact', async () => {
    const before = Date.now();
    await audit.record(entry({ tool: 'first', args: [1, 'two', { three: 3 }] }));
    await audit.record(
      entry({
        tool: 'second',
        caller: 'key-1',
        transport: 'http',
        args: { nested: { list: [null, true, 1.5], text: 'Ünïcødé 🚀 "quoted" \\' } },
        duration_ms: 12.6,
        status: 'error',
        error: 'EXCHANGE_UNAVAILABLE: binance did not answer',
      }),
    );
    await audit.record(entry({ tool: 'third', args: undefined }));
    const [third, second, first] = await audit.recent(3);

    expect(third).toMatchObject({ tool: 'third', args: null });
    expect(second).toEqual({
      id: expect.any(String),
      at: expect.any(String),
      tool: 'second',
      caller: 'key-1',
      transport: 'http',
      args: { nested: { list: [null, true, 1.5], text: 'Ünïcødé 🚀 "quoted" \\' } },
      duration_ms: 13,
      status: 'error',
      error: 'EXCHANGE_UNAVAILABLE: binance did not answer',
    });
    // An array is stored as a JSON array (pg alone would have sent a Postgres array literal).
    expect(first).toMatchObject({ tool: 'first', args: [1, 'two', { three: 3 }], status: 'ok', error: null });
    expect(BigInt(second!.id)).toBeGreaterThan(BigInt(first!.id));
    expect(Date.parse(first!.at)).toBeGreaterThanOrEqual(before - 5_000);
    expect(new Date(first!.at).toISOString()).toBe(first!.at);
  });

  it('limits recent to what was asked', async () => {
    for (let i = 0; i < 5; i++) await audit.record(entry({ tool: `batch-${i}` }));
    expect((await audit.recent(2)).map((e) => e.tool)).toEqual(['batch-4', 'batch-3']);
    expect(await audit.recent(0)).toEqual([]);
    expect(await audit.recent(-5)).toEqual([]);
    expect((await audit.recent(2.9)).length).toBe(2);
  });

  it('keeps args up to ~8 KB and replaces larger ones by their size', async () => {
    const fits = { blob: 'x'.repeat(MAX_AUDIT_ARGS_BYTES - 20) };
    await audit.record(entry({ tool: 'fits', args: fits }));
    expect((await audit.recent(1))[0]!.args).toEqual(fits);

    const big = { candles: Array.from({ length: 2_000 }, (_, i) => [i, i * 1.5]) };
    await audit.record(entry({ tool: 'big', args: big }));
    expect((await audit.recent(1))[0]!.args).toEqual({
      truncated: true,
      bytes: Buffer.byteLength(JSON.stringify(big)),
    });
    // Multi-byte characters count in bytes, not characters.
    const wide = { text: '日'.repeat(3_000) };
    await audit.record(entry({ tool: 'wide', args: wide }));
    expect((await audit.recent(1))[0]!.args).toMatchObject({ truncated: true });
  });

  it('stores awkward args without failing the insert', async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    await audit.record(entry({ tool: 'circular', args: circular }));
    expect((await audit.recent(1))[0]!.args).toEqual({ unserializable: true });

    await audit.record(entry({ tool: 'nul', args: { text: 'a\u0000b', big: 10n } }));
    expect((await audit.recent(1))[0]!.args).toEqual({ text: 'ab', big: '10' });

    const hostile = "'); drop table audit_log; --";
    await audit.record(entry({ tool: hostile, caller: '$1', args: { q: hostile }, error: '$2' }));
    expect((await audit.recent(1))[0]).toMatchObject({
      tool: hostile,
      caller: '$1',
      args: { q: hostile },
      error: '$2',
    });
  });
});
