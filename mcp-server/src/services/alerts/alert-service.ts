/**
 * The alert capability behind `alert_manager`: create, update, delete, list, pause, resume and history of
 * a caller's alerts. Conditions arrive as text in the expression language (the original tool's
 * `price > 50000` and `rsi < 30` included) or as structured JSON, and are stored in the structured form
 * with the text as written. Changes reach the running engine at once, so a new alert is evaluated on the
 * next candle close or tick.
 */
import {
  AlertExpressionError,
  alertConditionSchema,
  formatCondition,
  parseAlertExpression,
  type AlertChannel,
  type AlertCondition,
  type AlertDefinition,
} from '../../core/alerts/index.js';
import { AppError } from '../../errors.js';
import type { MarketData } from '../../market/index.js';
import type { AlertChanges, AlertHistoryEntry, AlertStore, NewAlert } from '../../store/types.js';

export type AlertAction = 'create' | 'update' | 'delete' | 'list' | 'pause' | 'resume' | 'history';

export interface AlertRequest {
  action: AlertAction;
  alert_id?: string | undefined;
  symbol?: string | undefined;
  exchange?: string | undefined;
  /** Timeframe of series written without one: 1h on create; on update the alert's own unless given. */
  timeframe?: string | undefined;
  /** Expression text or structured JSON. */
  condition?: string | Record<string, unknown> | undefined;
  /** The original tool's category; informative except 'news', which has no data source here. */
  alert_type?: 'price' | 'technical' | 'volume' | 'news' | 'risk' | undefined;
  phone_number?: string | undefined;
  webhook_url?: string | undefined;
  message_template?: string | undefined;
  repeat?: 'once' | 'repeat' | undefined;
  cooldown_minutes?: number | undefined;
  expires_at?: string | undefined;
  quiet_hours?: { start: string; end: string; time_zone: string } | undefined;
  limit: number;
}

/** What the running engine must hear about (it re-reads the stored alert). */
export interface AlertEngineHooks {
  upsert(alert: AlertDefinition): void;
  remove(id: string): void;
}

export interface AlertServiceOptions {
  /** Whether WhatsApp delivery is configured (Twilio account, token, sender). */
  whatsapp: boolean;
  /** Whether signed webhooks are configured (a signing secret). */
  webhook: boolean;
  /** Default expiry of a new alert, ms. Default 30 days. */
  defaultExpiryMs?: number;
  now?: () => number;
}

const DEFAULT_EXPIRY_MS = 30 * 24 * 3600_000;
const DEFAULT_TIMEFRAME = '1h';
const DEFAULT_COOLDOWN_MIN = 60;

export class AlertService {
  private engine: AlertEngineHooks | null = null;
  private readonly now: () => number;

  constructor(
    private readonly market: MarketData,
    private readonly store: AlertStore,
    private readonly options: AlertServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The engine that evaluates alerts, once it runs (the server process starts it). */
  attachEngine(engine: AlertEngineHooks): void {
    this.engine = engine;
  }

  async manage(req: AlertRequest, owner: string): Promise<AlertManagerResult> {
    const notes: string[] = [];
    const base: AlertManagerResult = {
      action: req.action,
      alert: null,
      alerts: null,
      history: null,
      delivery: this.delivery(),
      notes,
    };
    switch (req.action) {
      case 'create': {
        const alert = await this.store.create(owner, await this.newAlert(req, notes));
        this.engine?.upsert(alert);
        return { ...base, alert: present(alert) };
      }
      case 'update': {
        const id = need(req.alert_id, 'update');
        const existing = await this.found(owner, id);
        const changes = await this.changes(req, existing, notes);
        const alert = await this.orNotFound(this.store.update(owner, id, changes), id);
        if (alert.status === 'active') this.engine?.upsert(alert);
        return { ...base, alert: present(alert) };
      }
      case 'delete': {
        const id = need(req.alert_id, 'delete');
        if (!(await this.store.delete(owner, id))) throw notFound(id);
        this.engine?.remove(id);
        notes.push(`Alert ${id} deleted; its history is kept.`);
        return base;
      }
      case 'pause': {
        const id = need(req.alert_id, 'pause');
        const alert = await this.orNotFound(this.store.pause(owner, id), id);
        this.engine?.remove(id);
        return { ...base, alert: present(alert) };
      }
      case 'resume': {
        const id = need(req.alert_id, 'resume');
        const alert = await this.orNotFound(this.store.resume(owner, id), id);
        if (alert.status === 'active') this.engine?.upsert(alert);
        return { ...base, alert: present(alert) };
      }
      case 'list': {
        const alerts = await this.store.list(owner);
        return { ...base, alerts: alerts.map(present) };
      }
      case 'history': {
        const id = need(req.alert_id, 'history');
        const alert = await this.found(owner, id);
        const history = await this.store.history(owner, id, req.limit);
        return { ...base, alert: present(alert), history: history.map(presentHistory) };
      }
    }
  }

  /**
   * One of the owner's alerts in `manage`'s answer shape (action 'get'). The REST API's
   * `GET /alerts/{id}`; the tool has no such action (list shows every alert).
   */
  async get(id: string, owner: string): Promise<AlertManagerResult> {
    const alert = await this.found(owner, id);
    return {
      action: 'get',
      alert: present(alert),
      alerts: null,
      history: null,
      delivery: this.delivery(),
      notes: [],
    };
  }

  /** Which delivery channels this server can use, shown with every answer. */
  private delivery(): AlertManagerResult['delivery'] {
    const state = (on: boolean) => (on ? 'enabled' : 'not configured');
    return { whatsapp: state(this.options.whatsapp), webhook: state(this.options.webhook) };
  }

  private async newAlert(req: AlertRequest, notes: string[]): Promise<NewAlert> {
    if (req.alert_type === 'news') {
      throw new AppError(
        'INVALID_ARGUMENT',
        'News alerts need a news source, which this server does not have; use price, technical, volume or risk.',
      );
    }
    if (req.condition === undefined) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'create needs condition, e.g. "close(4h) > 70000", "rsi(14, 1h) < 30" or "cross_above(ema(20), ema(50))".',
      );
    }
    const timeframe = req.timeframe ?? DEFAULT_TIMEFRAME;
    const condition = parseCondition(req.condition, timeframe);
    const symbol = await this.symbolFor(condition, req);
    const channel = this.channel(req);
    const repeat = repeatOf(req);
    if (req.expires_at === undefined) {
      notes.push(
        `Expires in 30 days (${new Date(this.now() + DEFAULT_EXPIRY_MS).toISOString()}); set expires_at to change it.`,
      );
    }
    return {
      symbol,
      exchange: req.exchange ?? this.market.defaultExchange,
      timeframe,
      condition,
      expression: typeof req.condition === 'string' ? req.condition : formatCondition(condition),
      channel,
      template: req.message_template ?? null,
      repeat,
      expires_at:
        this.expiry(req.expires_at) ??
        new Date(this.now() + (this.options.defaultExpiryMs ?? DEFAULT_EXPIRY_MS)).toISOString(),
      quiet_hours: req.quiet_hours ?? null,
    };
  }

  private async changes(
    req: AlertRequest,
    existing: AlertDefinition,
    notes: string[],
  ): Promise<AlertChanges> {
    const changes: AlertChanges = {};
    const timeframe = req.timeframe ?? existing.timeframe;
    if (req.timeframe !== undefined && req.timeframe !== existing.timeframe)
      changes.timeframe = req.timeframe;
    if (req.exchange !== undefined && req.exchange !== existing.exchange) changes.exchange = req.exchange;
    // A new timeframe re-reads the stored expression: its series without a timeframe follow it.
    const condition = req.condition ?? (changes.timeframe ? (existing.expression ?? undefined) : undefined);
    if (condition !== undefined) {
      changes.condition = parseCondition(condition, timeframe);
      changes.expression = typeof condition === 'string' ? condition : formatCondition(changes.condition);
    }
    if (req.symbol !== undefined || changes.condition || changes.exchange) {
      changes.symbol = await this.symbolFor(changes.condition ?? existing.condition, {
        ...req,
        symbol: req.symbol ?? existing.symbol ?? undefined,
        exchange: req.exchange ?? existing.exchange,
      });
    }
    if (req.phone_number !== undefined || req.webhook_url !== undefined) changes.channel = this.channel(req);
    if (req.message_template !== undefined) changes.template = req.message_template;
    if (req.repeat !== undefined || req.cooldown_minutes !== undefined) changes.repeat = repeatOf(req);
    if (req.expires_at !== undefined) changes.expires_at = this.expiry(req.expires_at)!;
    if (req.quiet_hours !== undefined) changes.quiet_hours = req.quiet_hours;
    if (Object.keys(changes).length === 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'update changes nothing: pass condition, symbol, exchange, timeframe, phone_number or webhook_url, ' +
          'message_template, repeat, cooldown_minutes, expires_at or quiet_hours.',
      );
    }
    if (existing.status === 'fired' || existing.status === 'expired') {
      notes.push(`The alert was ${existing.status}; resume it to evaluate it again.`);
    }
    return changes;
  }

  /** Unified symbol for market conditions; portfolio conditions have none. */
  private async symbolFor(condition: AlertCondition, req: Pick<AlertRequest, 'symbol' | 'exchange'>) {
    if (condition.kind === 'portfolio') return null;
    if (req.symbol === undefined) {
      throw new AppError('INVALID_ARGUMENT', 'symbol is required for a market condition, e.g. BTCUSDT.');
    }
    return this.market.resolveSymbol(req.symbol, req.exchange);
  }

  private channel(req: AlertRequest): AlertChannel {
    if (req.phone_number !== undefined && req.webhook_url !== undefined) {
      throw new AppError('INVALID_ARGUMENT', 'pass phone_number (WhatsApp) or webhook_url, not both.');
    }
    if (req.webhook_url !== undefined) {
      if (!this.options.webhook) {
        throw new AppError(
          'INVALID_ARGUMENT',
          'Webhook delivery is not configured on this server (WEBHOOK_SIGNING_SECRET signs every call); ' +
            'use phone_number, or ask the operator to set it.',
        );
      }
      return { type: 'webhook', url: req.webhook_url };
    }
    if (req.phone_number === undefined) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'Say where to deliver: phone_number for WhatsApp (E.164, e.g. +4915112345678) or webhook_url.',
      );
    }
    if (!this.options.whatsapp) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'WhatsApp delivery is not configured on this server (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ' +
          'TWILIO_WHATSAPP_FROM); use webhook_url, or ask the operator to configure Twilio.',
      );
    }
    return { type: 'whatsapp', to: req.phone_number };
  }

  private expiry(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const at = Date.parse(value);
    if (!(at > this.now())) {
      throw new AppError('INVALID_ARGUMENT', `expires_at must be in the future, got ${value}.`);
    }
    return new Date(at).toISOString();
  }

  private async found(owner: string, id: string): Promise<AlertDefinition> {
    return this.orNotFound(this.store.get(owner, id), id);
  }

  private async orNotFound<T>(p: Promise<T | null>, id: string): Promise<T> {
    const value = await p;
    if (value === null) throw notFound(id);
    return value;
  }
}

/** Text through the expression parser, objects through the schema; both with messages that say what to fix. */
export function parseCondition(
  condition: string | Record<string, unknown>,
  timeframe: string,
): AlertCondition {
  if (typeof condition === 'string') {
    let parsed: AlertCondition;
    try {
      parsed = parseAlertExpression(condition, { timeframe });
    } catch (err) {
      if (!(err instanceof AlertExpressionError)) throw err;
      throw new AppError('INVALID_ARGUMENT', `condition ${err.message}\n${err.caret}`, {
        position: err.position,
      });
    }
    // The same checks as JSON conditions (e.g. a number too large to be finite, 1e309).
    condition = parsed as unknown as Record<string, unknown>;
  }
  const parsed = alertConditionSchema.safeParse(condition);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `condition.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('INVALID_ARGUMENT', issues);
  }
  return parsed.data as AlertCondition;
}

function repeatOf(req: AlertRequest): AlertDefinition['repeat'] {
  if ((req.repeat ?? 'once') === 'once') return { mode: 'once' };
  return { mode: 'repeat', cooldown_s: (req.cooldown_minutes ?? DEFAULT_COOLDOWN_MIN) * 60 };
}

function need(id: string | undefined, action: string): string {
  if (id === undefined) throw new AppError('INVALID_ARGUMENT', `${action} needs alert_id (see action list).`);
  return id;
}

function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `No alert ${id} for this API key; action list shows yours.`);
}

/** An alert as the tool shows it: the phone number masked (it is the caller's own, but answers get logged). */
function present(a: AlertDefinition): PresentedAlert {
  return {
    id: a.id,
    symbol: a.symbol,
    exchange: a.exchange,
    timeframe: a.timeframe,
    expression: a.expression ?? formatCondition(a.condition),
    condition: a.condition as unknown as Record<string, unknown>,
    channel: {
      type: a.channel.type,
      to: a.channel.type === 'whatsapp' ? maskPhone(a.channel.to) : a.channel.url,
    },
    template: a.template,
    repeat: a.repeat.mode,
    cooldown_minutes: a.repeat.mode === 'repeat' ? a.repeat.cooldown_s / 60 : null,
    expires_at: a.expires_at,
    quiet_hours: a.quiet_hours,
    status: a.status,
    created_at: a.created_at,
    updated_at: a.updated_at,
    last_fired_at: a.last_fired_at,
  };
}

function presentHistory(h: AlertHistoryEntry) {
  return {
    fired_at: new Date(h.at).toISOString(),
    values: h.values,
    message: h.message,
    outbox_id: h.outbox_id,
    message_sid: h.provider_id,
    delivery: h.delivery,
    attempts: h.attempts,
    error: h.last_error,
    provider_status: h.provider_status ?? null,
  };
}

export function maskPhone(phone: string): string {
  return phone.length > 6 ? `${phone.slice(0, 3)}${'*'.repeat(phone.length - 6)}${phone.slice(-3)}` : '***';
}

export interface PresentedAlert {
  id: string;
  symbol: string | null;
  exchange: string;
  timeframe: string;
  expression: string;
  condition: Record<string, unknown>;
  channel: { type: 'whatsapp' | 'webhook'; to: string };
  template: string | null;
  repeat: 'once' | 'repeat';
  cooldown_minutes: number | null;
  expires_at: string | null;
  quiet_hours: { start: string; end: string; time_zone: string } | null;
  status: AlertDefinition['status'];
  created_at: string;
  updated_at: string;
  last_fired_at: string | null;
}

export interface AlertManagerResult {
  action: string;
  alert: PresentedAlert | null;
  alerts: PresentedAlert[] | null;
  history: ReturnType<typeof presentHistory>[] | null;
  delivery: { whatsapp: string; webhook: string };
  notes: string[];
}
