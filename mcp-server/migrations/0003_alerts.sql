-- Alerts, their firings and the transactional outbox that delivers them (WhatsApp through Twilio, or a
-- signed webhook), the WhatsApp recipients' opt-out and 24-hour window, and Twilio's status callbacks.
-- Applied once by src/store/migrate.ts; never edit an applied migration, add a new numbered file instead.
-- Must run unchanged on PostgreSQL 15+ and on PGlite.

create table alerts (
  id uuid primary key default gen_random_uuid(),
  -- The API key's id ('local' without keys); every read and write is filtered by it.
  owner text not null,
  symbol text null,
  exchange text not null,
  timeframe text not null,
  condition jsonb not null,
  expression text null,
  channel jsonb not null,
  template text null,
  repeat jsonb not null,
  expires_at timestamptz null,
  quiet_hours jsonb null,
  status text not null default 'active'
    check (status in ('active', 'paused', 'fired', 'expired', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_fired_at timestamptz null
);

create index alerts_owner_idx on alerts (owner);
create index alerts_status_symbol_idx on alerts (status, symbol);

create table alert_firings (
  id uuid primary key default gen_random_uuid(),
  alert_id uuid not null references alerts (id) on delete cascade,
  -- Candle close or tick time (ms) that fired it; (alert_id, at) is the idempotency key of its message.
  at bigint not null,
  "values" jsonb not null,
  message text not null,
  created_at timestamptz not null default now(),
  unique (alert_id, at)
);

-- One message to deliver per firing, written in the firing's transaction (transactional outbox).
create table outbox (
  id uuid primary key default gen_random_uuid(),
  firing_id uuid not null unique references alert_firings (id) on delete cascade,
  channel jsonb not null,
  -- The phone number (E.164) or URL the message goes to, for the per-recipient limit.
  recipient text not null,
  body text not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- When the current attempt was claimed: a row 'sending' for longer than the lease belongs to a dead worker.
  sending_started_at timestamptz null,
  -- A previous attempt may have reached the provider (timeout, 5xx, crash): look before sending again.
  needs_check boolean not null default false,
  last_error text null,
  -- Twilio's message SID (SM...).
  provider_id text null,
  sent_at timestamptz null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index outbox_status_next_idx on outbox (status, next_attempt_at);
create index outbox_recipient_sent_idx on outbox (recipient, sent_at);

create table whatsapp_recipients (
  -- E.164, e.g. +4915112345678.
  phone text primary key,
  opted_out boolean not null default false,
  opted_out_at timestamptz null,
  -- Last inbound message: free-form text is allowed for 24 hours after it, templates otherwise.
  last_inbound_at timestamptz null
);

-- Twilio status callbacks: one row per (message, status) reported.
create table message_status (
  provider_id text not null,
  -- From the callback URL's ?outbox=<id>, when present.
  outbox_id uuid null,
  status text not null,
  error_code integer null,
  at timestamptz not null default now(),
  primary key (provider_id, status)
);

create index message_status_outbox_idx on message_status (outbox_id);
