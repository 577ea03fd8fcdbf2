/**
 * Portfolios in SQL (Postgres or PGlite). Every statement is parameterised and filtered by owner, so one
 * owner can neither read nor change another's portfolios whatever ids it sends. Writes run in one
 * transaction: a failing position leaves the portfolio exactly as it was.
 *
 * Amounts are NUMERIC: the JS number's shortest decimal form is stored exactly and read back as the same
 * number. Times are returned as ISO strings in UTC.
 */
import { AppError } from '../errors.js';
import type { Portfolio, PortfolioStore, Position, SqlClient, SqlDatabase } from './types.js';

type Changes = { positions: Position[]; cash?: number; base_currency?: string };

interface PortfolioRow extends Record<string, unknown> {
  id: string;
  base_currency: string;
  cash: string;
  created_at: Date;
  updated_at: Date;
  symbol: string | null;
  quantity: string | null;
  entry_price: string | null;
  entry_time: Date | null;
  fees: string | null;
}

export class SqlPortfolioStore implements PortfolioStore {
  constructor(private readonly db: SqlDatabase) {}

  async get(owner: string, id: string): Promise<Portfolio | null> {
    return read(this.db, owner, id);
  }

  async replace(owner: string, id: string, data: Changes): Promise<Portfolio> {
    const positions = validate(data);
    return this.write(async (tx) => {
      await savePortfolio(tx, owner, id, data);
      await tx.query('delete from positions where owner = $1 and portfolio_id = $2', [owner, id]);
      // Quantity 0 means "no position", as in upsert.
      for (const p of positions) if (p.quantity !== 0) await savePosition(tx, owner, id, p);
      return (await read(tx, owner, id))!;
    });
  }

  async upsert(owner: string, id: string, data: Changes): Promise<Portfolio> {
    const positions = validate(data);
    return this.write(async (tx) => {
      await savePortfolio(tx, owner, id, data);
      for (const p of positions) {
        if (p.quantity === 0) {
          await tx.query('delete from positions where owner = $1 and portfolio_id = $2 and symbol = $3', [
            owner,
            id,
            p.symbol,
          ]);
        } else {
          await savePosition(tx, owner, id, p);
        }
      }
      return (await read(tx, owner, id))!;
    });
  }

  async delete(owner: string, id: string): Promise<boolean> {
    // Positions go with it (on delete cascade).
    const rows = await this.db.query('delete from portfolios where owner = $1 and id = $2 returning id', [
      owner,
      id,
    ]);
    return rows.length > 0;
  }

  async list(owner: string): Promise<{ id: string; positions: number; updated_at: string }[]> {
    const rows = await this.db.query<{ id: string; positions: number; updated_at: Date }>(
      `select p.id, p.updated_at, count(s.symbol)::int as positions
         from portfolios p
         left join positions s on s.owner = p.owner and s.portfolio_id = p.id
        where p.owner = $1
        group by p.owner, p.id
        order by p.id collate "C"`,
      [owner],
    );
    return rows.map((r) => ({ id: r.id, positions: r.positions, updated_at: r.updated_at.toISOString() }));
  }

  /** Runs a write in a transaction; invalid values the database rejects become INVALID_ARGUMENT. */
  private async write(fn: (tx: SqlClient) => Promise<Portfolio>): Promise<Portfolio> {
    try {
      return await this.db.transaction(fn);
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      // 23514 check violation (negative amounts), class 22 data exceptions (e.g. an unreadable entry_time).
      if (typeof code === 'string' && (code === '23514' || code.startsWith('22'))) {
        throw new AppError('INVALID_ARGUMENT', `Invalid portfolio data: ${(err as Error).message}.`, {
          hint: 'Quantities and entry prices must be positive, cash and fees not negative, entry_time an ISO time.',
        });
      }
      throw err;
    }
  }
}

/** Checks what SQL cannot: every amount a finite number (NUMERIC accepts NaN), one position per symbol. */
function validate(data: Changes): Position[] {
  const numbers: [string, number | undefined][] = [['cash', data.cash]];
  const seen = new Set<string>();
  for (const p of data.positions) {
    if (seen.has(p.symbol)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `Position ${p.symbol} is listed twice; give one position per symbol.`,
      );
    }
    seen.add(p.symbol);
    numbers.push([`${p.symbol} quantity`, p.quantity], [`${p.symbol} entry_price`, p.entry_price]);
    numbers.push([`${p.symbol} fees`, p.fees]);
  }
  for (const [name, value] of numbers) {
    if (value !== undefined && !Number.isFinite(value)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `Portfolio ${name} must be a finite number, got ${String(value)}.`,
      );
    }
  }
  return data.positions;
}

/** Creates the portfolio or bumps updated_at, changing cash and base currency only when given. */
async function savePortfolio(tx: SqlClient, owner: string, id: string, data: Changes): Promise<void> {
  await tx.query(
    `insert into portfolios (owner, id, base_currency, cash)
     values ($1, $2, coalesce($3::text, 'USDT'), coalesce($4::numeric, 0))
     on conflict (owner, id) do update
        set base_currency = coalesce($3::text, portfolios.base_currency),
            cash = coalesce($4::numeric, portfolios.cash),
            updated_at = now()`,
    [owner, id, data.base_currency ?? null, data.cash ?? null],
  );
}

async function savePosition(tx: SqlClient, owner: string, id: string, p: Position): Promise<void> {
  await tx.query(
    `insert into positions (owner, portfolio_id, symbol, quantity, entry_price, entry_time, fees)
     values ($1, $2, $3, $4::numeric, $5::numeric, $6::timestamptz, $7::numeric)
     on conflict (owner, portfolio_id, symbol) do update
        set quantity = excluded.quantity, entry_price = excluded.entry_price,
            entry_time = excluded.entry_time, fees = excluded.fees`,
    [owner, id, p.symbol, p.quantity, p.entry_price, p.entry_time ?? null, p.fees ?? 0],
  );
}

/** The portfolio and its positions in one statement, so a concurrent write is seen entirely or not at all. */
async function read(client: SqlClient, owner: string, id: string): Promise<Portfolio | null> {
  const rows = await client.query<PortfolioRow>(
    `select p.id, p.base_currency, p.cash, p.created_at, p.updated_at,
            s.symbol, s.quantity, s.entry_price, s.entry_time, s.fees
       from portfolios p
       left join positions s on s.owner = p.owner and s.portfolio_id = p.id
      where p.owner = $1 and p.id = $2
      order by s.symbol collate "C"`,
    [owner, id],
  );
  const first = rows[0];
  if (!first) return null;
  return {
    id: first.id,
    base_currency: first.base_currency,
    cash: Number(first.cash),
    positions: rows
      .filter((r) => r.symbol !== null)
      .map((r) => ({
        symbol: r.symbol!,
        quantity: Number(r.quantity),
        entry_price: Number(r.entry_price),
        entry_time: r.entry_time ? r.entry_time.toISOString() : null,
        fees: Number(r.fees),
      })),
    created_at: first.created_at.toISOString(),
    updated_at: first.updated_at.toISOString(),
  };
}
