-- The per-recipient hourly WhatsApp limit counts the messages that were given a slot (sent, or being
-- sent or retried), not only those already sent, so dispatchers sending to one number at the same time
-- cannot both take its last slot. Messages sent before this migration keep theirs.
alter table outbox add column slot_at timestamptz null;
update outbox set slot_at = sent_at where status = 'sent';
create index outbox_recipient_slot_idx on outbox (recipient, slot_at);
