-- Retention (store/retention.ts) deletes finished outbox rows by updated_at and Twilio status callbacks
-- by at, in batches: without these indexes every batch would scan the whole table.
create index outbox_finished_updated_idx on outbox (updated_at) where status in ('sent', 'failed', 'skipped');
create index message_status_at_idx on message_status (at);
