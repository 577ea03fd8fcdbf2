-- A backtest run handed to the worker is stored under its tool job's id. BullMQ runs a job again when
-- its worker lost the lock (a Redis outage longer than the lock, a stalled process): the second run
-- finds the first one's row by this key and returns it instead of storing the same run twice.
alter table backtest_runs add column request_key text;
create unique index backtest_runs_owner_request_key_idx on backtest_runs (owner, request_key)
  where request_key is not null;
