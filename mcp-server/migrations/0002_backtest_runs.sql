-- Stored backtest runs: the inputs that produced each run and what it returned, so a run can be fetched
-- again, compared with others and charted. Applied once by src/store/migrate.ts; never edit an applied
-- migration, add a new numbered file instead. Must run unchanged on PostgreSQL 15+ and on PGlite.

create table backtest_runs (
  id uuid primary key default gen_random_uuid(),
  -- The API key's id ('local' without keys); every read is filtered by it.
  owner text not null,
  created_at timestamptz not null default now(),
  symbol text not null,
  exchange text not null,
  timeframe text not null,
  strategy text not null,
  -- The strategy's parameters after defaults (for `rules`: the rule spec); the best set for a grid.
  params jsonb not null,
  -- Engine configuration: capital, fees, slippage, sizing, shorts, stops, periods per year.
  config jsonb not null,
  period_start timestamptz not null,
  period_end timestamptz not null,
  mode text not null check (mode in ('single', 'walk_forward', 'grid')),
  -- The headline metrics (out-of-sample for walk_forward and grid).
  metrics jsonb not null,
  -- Everything else returned: trades, downsampled equity and prices, windows, grid table, notes.
  result jsonb not null,
  -- The request as validated, so the run can be repeated exactly.
  request jsonb not null,
  data_source text not null check (data_source in ('exchange', 'offline')),
  as_of timestamptz not null
);

create index backtest_runs_owner_created_idx on backtest_runs (owner, created_at desc);
