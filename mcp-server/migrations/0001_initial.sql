-- Initial schema: portfolios with their positions, the tool-call audit log and the analysis archive.
-- Applied once by src/store/migrate.ts; never edit an applied migration, add a new numbered file instead.
-- Must run unchanged on PostgreSQL 15+ and on PGlite.

create table portfolios (
  owner text not null,
  id text not null,
  base_currency text not null default 'USDT',
  cash numeric not null default 0 check (cash >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (owner, id)
);

create table positions (
  owner text not null,
  portfolio_id text not null,
  symbol text not null,
  quantity numeric not null check (quantity > 0),
  entry_price numeric not null check (entry_price > 0),
  entry_time timestamptz null,
  fees numeric not null default 0 check (fees >= 0),
  primary key (owner, portfolio_id, symbol),
  foreign key (owner, portfolio_id) references portfolios (owner, id) on delete cascade
);

create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  tool text not null,
  caller text not null,
  transport text not null,
  args jsonb,
  duration_ms integer not null,
  status text not null check (status in ('ok', 'error')),
  error text
);

create index audit_log_at_idx on audit_log (at);

-- The Postgres JSONB twin of the MongoDB `analyses` collection; the 7-day TTL is applied by the code.
create table analysis_archive (
  id uuid primary key default gen_random_uuid(),
  symbol text not null,
  exchange text not null,
  timeframe text not null,
  ts timestamptz not null,
  confidence integer not null,
  action text not null,
  report jsonb not null,
  created_at timestamptz not null default now()
);

create index analysis_archive_symbol_ts_idx on analysis_archive (symbol, ts desc);
create index analysis_archive_confidence_idx on analysis_archive (confidence);
create index analysis_archive_created_at_idx on analysis_archive (created_at);
