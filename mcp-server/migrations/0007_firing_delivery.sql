-- Retention (store/retention.ts) deletes finished outbox rows, and with them each message's recipient and
-- text. How the message ended (status, attempts, error, Twilio's SID and last delivery status) is kept on
-- the firing, so alert history still tells it; null while the outbox row exists.
alter table alert_firings add column delivery_record jsonb null;
-- Status callbacks of a message still in the outbox are kept past their own age (retention looks them up).
create index outbox_provider_idx on outbox (provider_id) where provider_id is not null;
