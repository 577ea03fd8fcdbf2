/**
 * The alert fixture the delivery, outbox and retention tests share: a `price > 1` alert on binance
 * BTC/USDT 1h, and one recorded firing of it, whose outbox row the test then delivers, counts or prunes.
 * Written once here so each test states only what it cares about (owner, channel, repeat, time, body).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { AlertChannel, AlertDefinition } from '../../src/core/alerts/types.js';
import type { SqlAlertStore } from '../../src/store/alert-store.js';
import type { NewAlert } from '../../src/store/types.js';

/** The standard alert: `price > 1` on binance BTC/USDT 1h, repeating with no cooldown, to a webhook. */
export function newAlert(over: Partial<NewAlert> = {}): NewAlert {
  return {
    symbol: 'BTC/USDT',
    exchange: 'binance',
    timeframe: '1h',
    condition: { kind: 'price', op: 'above', level: 1 },
    expression: null,
    channel: { type: 'webhook', url: 'https://example.test/hook' },
    template: null,
    repeat: { mode: 'repeat', cooldown_s: 0 },
    expires_at: null,
    quiet_hours: null,
    ...over,
  };
}

export interface FireOptions {
  /** Default 'alice'. */
  owner?: string;
  channel: AlertChannel;
  /** The message and outbox body; default `alert <uuid>`, unique per call. */
  body?: string;
  /** The firing's time in ms; default now. */
  at?: number;
  /** Default `{ price: 2 }`. */
  values?: Record<string, number>;
  /** Default: repeat with no cooldown. */
  repeat?: NewAlert['repeat'];
}

/**
 * Creates a fresh standard alert to `channel` and records one firing of it, which must be new
 * (`created`), so exactly one pending outbox row is added.
 */
export async function fireAlert(
  store: SqlAlertStore,
  options: FireOptions,
): Promise<{ alert: AlertDefinition; outboxId: string; body: string }> {
  const {
    owner = 'alice',
    channel,
    body = `alert ${randomUUID()}`,
    at = Date.now(),
    values = { price: 2 },
    repeat = { mode: 'repeat', cooldown_s: 0 },
  } = options;
  const alert = await store.create(owner, newAlert({ channel, repeat }));
  const r = await store.recordFiring({ alert_id: alert.id, at, values, message: body }, channel, body);
  expect(r?.created).toBe(true);
  return { alert, outboxId: r!.outbox_id, body };
}
