/**
 * Turns an incoming item into a short WhatsApp message. Recognised items are the crypto-intel server's
 * tool answers (analyze_crypto, market_scanner, detect_opportunities, monitor_portfolio), a single
 * scanner hit or trade idea (as a trigger or a Split Out node emits them) and the server's alert webhook
 * payload (also when it arrives under `body`, as n8n's Webhook node puts it). Anything else gets a
 * compact generic summary.
 *
 * Every message has a bold headline, a few detail lines and a footer with the data source and age
 * (measured at send time from the last candle's close) and "Not financial advice.". When the text must
 * be cut, the detail lines are cut and the footer stays.
 */
import {
  cleanText,
  fitWithFooter,
  formatAge,
  formatAmount,
  formatPct,
  formatPrice,
  formatTime,
  normalizeVariable,
} from './text';

export const DISCLAIMER = 'Not financial advice.';

export type ItemKind =
  'analysis' | 'scan' | 'scanHit' | 'opportunities' | 'opportunity' | 'portfolio' | 'alert' | 'generic';

export interface FormattedMessage {
  kind: ItemKind;
  /** Shown in bold. */
  title: string;
  /** Follows the title on the first line, not bold; may be empty. */
  subtitle: string;
  lines: string[];
  /** Kept in full when the message is cut: data source and age, disclaimer. */
  footer: string[];
}

type Obj = Record<string, unknown>;

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined =>
  typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined;
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const objs = (x: unknown): Obj[] => arr(x).filter(isObj);

const price = (x: unknown): string => {
  const n = num(x);
  return n === undefined ? 'n/a' : formatPrice(n);
};

function isAnalysis(o: Obj): boolean {
  return isObj(o.recommendation) && !!str(o.recommendation.action) && !!str(o.symbol);
}
function isScan(o: Obj): boolean {
  return Array.isArray(o.hits) && (!!str(o.scan_type) || num(o.hits_total) !== undefined);
}
function isScanHit(o: Obj): boolean {
  return (
    !!str(o.symbol) &&
    Array.isArray(o.signals) &&
    isObj(o.invalidation) &&
    num(o.strength) !== undefined &&
    !!str(o.direction)
  );
}
function isOpportunities(o: Obj): boolean {
  return Array.isArray(o.ideas) && (isObj(o.criteria) || isObj(o.scan));
}
function isOpportunity(o: Obj): boolean {
  return (
    !!str(o.symbol) &&
    (o.action === 'BUY' || o.action === 'SELL') &&
    num(o.confidence) !== undefined &&
    num(o.entry) !== undefined &&
    Array.isArray(o.targets)
  );
}
function isPortfolio(o: Obj): boolean {
  return isObj(o.valuation) && Array.isArray(o.positions);
}
function isAlert(o: Obj): boolean {
  return !!str(o.message) && !!str(o.alert_id) && (isObj(o.values) || 'firing_id' in o);
}

const DETECTORS: Array<[Exclude<ItemKind, 'generic'>, (o: Obj) => boolean]> = [
  ['analysis', isAnalysis],
  ['opportunities', isOpportunities],
  ['scan', isScan],
  ['portfolio', isPortfolio],
  ['alert', isAlert],
  ['opportunity', isOpportunity],
  ['scanHit', isScanHit],
];

/**
 * What the item is, and the object that carries it: the item itself, or what it wraps under `body`
 * (n8n's Webhook node), `result`, `data`, `structuredContent` or `json`.
 */
export function detectItem(json: unknown): { kind: ItemKind; data: Obj } {
  const root = isObj(json) ? json : {};
  const candidates = [root];
  for (const key of ['body', 'result', 'data', 'structuredContent', 'json']) {
    const inner = root[key];
    if (isObj(inner)) candidates.push(inner);
  }
  for (const candidate of candidates) {
    for (const [kind, test] of DETECTORS) if (test(candidate)) return { kind, data: candidate };
  }
  // n8n's Webhook node: summarise the posted payload, not the request headers.
  if (isObj(root.body) && isObj(root.headers)) return { kind: 'generic', data: root.body };
  return { kind: 'generic', data: root };
}

/** `Data: binance offline snapshot, last candle 2026-05-15 16:00 UTC (189 days old)`. */
function dataLine(o: Obj, now: number): string | undefined {
  const asOf = str(o.as_of);
  const exchange = str(o.exchange);
  const source = str(o.data_source);
  if (!asOf && !exchange) return undefined;
  const where = [
    exchange,
    source === 'offline' ? 'offline snapshot' : source === 'exchange' ? 'live' : source,
  ]
    .filter(Boolean)
    .join(' ');
  const parsed = asOf ? Date.parse(asOf) : NaN;
  const ageMs = Number.isFinite(parsed) ? now - parsed : num(o.data_age_ms);
  const when = asOf ? `last candle ${formatTime(asOf)}` : '';
  const age = ageMs !== undefined ? ` (${formatAge(ageMs)} old)` : '';
  return `Data: ${[where, when].filter(Boolean).join(', ')}${age}`;
}

function footer(o: Obj, now: number): string[] {
  const data = dataLine(o, now);
  return data ? [data, DISCLAIMER] : [DISCLAIMER];
}

const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b/g;

/** Server texts with ISO times written as `2026-05-15 12:00 UTC`. */
const readable = (text: string): string => text.replace(ISO_TIME, (iso) => formatTime(iso));

/**
 * `Why: ...`: the strongest reasons, as `factor: detail` (just the detail when it names the factor).
 * For BUY only the bullish reasons count, for SELL the bearish ones; for HOLD all of them.
 */
function topReasons(reasons: unknown, action: string | undefined, count = 3): string | undefined {
  const sign = action === 'BUY' ? 1 : action === 'SELL' ? -1 : 0;
  const list = objs(reasons)
    .filter((r) => str(r.detail) && (sign === 0 || (num(r.score) ?? 0) * sign > 0))
    .sort((a, b) => Math.abs(num(b.score) ?? 0) - Math.abs(num(a.score) ?? 0))
    .slice(0, count)
    .map((r) => {
      const detail = readable(str(r.detail)!);
      const factor = str(r.factor);
      return factor && !detail.toLowerCase().includes(factor.toLowerCase()) ? `${factor}: ${detail}` : detail;
    });
  return list.length ? `Why: ${list.join('; ')}` : undefined;
}

function tradePlan(o: {
  entry: unknown;
  stop_loss: unknown;
  stop_basis: unknown;
  targets: unknown;
  risk_reward: unknown;
}): string[] {
  const lines: string[] = [];
  const basis = str(o.stop_basis);
  lines.push(`Entry ${price(o.entry)} · stop ${price(o.stop_loss)}${basis ? ` (${basis})` : ''}`);
  const targets = objs(o.targets)
    .map((t) => num(t.price))
    .filter((p): p is number => p !== undefined)
    .map(formatPrice);
  const rr = num(o.risk_reward);
  const parts = [
    targets.length ? `Targets ${targets.join(' / ')}` : 'No target',
    rr !== undefined ? `R:R ${formatAmount(rr)}` : '',
  ];
  lines.push(parts.filter(Boolean).join(' · '));
  return lines;
}

function formatAnalysis(o: Obj, now: number): FormattedMessage {
  const rec = o.recommendation as Obj;
  const action = str(rec.action)!;
  const tf = str(o.timeframe);
  const symbol = str(o.symbol)!;
  const confidence = num(rec.confidence);
  const priceInfo = isObj(o.price) ? o.price : {};
  const trend = isObj(o.trend) ? o.trend : {};
  const lines: string[] = [];
  const trendText = str(trend.direction)
    ? ` · trend ${str(trend.direction)}${str(trend.strength) ? ` (${str(trend.strength)})` : ''}`
    : '';
  lines.push(`Price ${price(priceInfo.last_close)}${trendText}`);
  if (action === 'BUY' || action === 'SELL') {
    lines.push(...tradePlan(rec as Parameters<typeof tradePlan>[0]));
  } else {
    const score = num(rec.score);
    lines.push(
      `No trade: the signals do not line up${score !== undefined ? ` (score ${formatAmount(score)})` : ''}`,
    );
    const levels = isObj(o.key_levels) ? o.key_levels : {};
    const support = objs(levels.support)
      .slice(0, 2)
      .map((l) => price(l.price));
    const resistance = objs(levels.resistance)
      .slice(0, 2)
      .map((l) => price(l.price));
    if (support.length || resistance.length) {
      lines.push(
        [
          support.length ? `Support ${support.join(' / ')}` : '',
          resistance.length ? `resistance ${resistance.join(' / ')}` : '',
        ]
          .filter(Boolean)
          .join(' · '),
      );
    }
  }
  const confluence = isObj(o.confluence) ? o.confluence : undefined;
  if (confluence && str(confluence.timeframe) && str(confluence.trend)) {
    const agrees =
      confluence.agrees === true ? ' (agrees)' : confluence.agrees === false ? ' (disagrees)' : '';
    lines.push(`${str(confluence.timeframe)} trend ${str(confluence.trend)}${agrees}`);
  }
  const why = topReasons(rec.reasons, action);
  if (why) lines.push(why);
  return {
    kind: 'analysis',
    title: `${symbol}${tf ? ` ${tf}` : ''}: ${action}`,
    subtitle: confidence !== undefined ? `(confidence ${confidence}/100)` : '',
    lines,
    footer: footer(o, now),
  };
}

const SCAN_LABEL: Record<string, string> = {
  breakouts: 'breakout',
  reversals: 'reversal',
  institutional: 'institutional setup',
  volume_surge: 'volume surge',
};
const scanLabel = (t: unknown) => SCAN_LABEL[str(t) ?? ''] ?? str(t) ?? 'setup';

/** `Invalid if a candle closes below 0.0486 (6.98% away)`. */
function invalidationText(direction: unknown, invalidation: unknown): string | undefined {
  if (!isObj(invalidation) || num(invalidation.price) === undefined) return undefined;
  const side = direction === 'bullish' ? 'below' : direction === 'bearish' ? 'above' : 'beyond';
  const distance = num(invalidation.distance_pct);
  return `Invalid if a candle closes ${side} ${price(invalidation.price)}${distance !== undefined ? ` (${formatPct(Math.abs(distance))} away)` : ''}`;
}

function formatScanHit(o: Obj, now: number): FormattedMessage {
  const lines: string[] = [];
  const invalid = invalidationText(o.direction, o.invalidation);
  lines.push([`Close ${price(o.last_close)}`, invalid].filter(Boolean).join(' · '));
  const details = objs(o.signals)
    .map((s) => str(s.detail))
    .filter((d): d is string => !!d)
    .slice(0, 3)
    .map(readable);
  if (details.length) lines.push(`Signals: ${details.join('; ')}`);
  const signalAt = str(o.signal_at);
  const barsAgo = num(o.bars_ago);
  if (signalAt) {
    lines.push(
      `Signal candle ${formatTime(signalAt)}${barsAgo !== undefined ? ` (${barsAgo} candle${barsAgo === 1 ? '' : 's'} ago)` : ''}`,
    );
  }
  const tf = str(o.timeframe);
  const strength = num(o.strength);
  return {
    kind: 'scanHit',
    title: `${str(o.symbol)}${tf ? ` ${tf}` : ''}: ${str(o.direction)} ${scanLabel(o.scan_type)}`,
    subtitle: strength !== undefined ? `(strength ${strength}/100)` : '',
    lines,
    footer: footer(o, now),
  };
}

function formatScan(o: Obj, now: number): FormattedMessage {
  const hits = objs(o.hits);
  const total = num(o.hits_total) ?? hits.length;
  const tf = str(o.timeframe);
  const lines: string[] = [];
  hits.slice(0, 10).forEach((h, i) => {
    const rank = num(h.rank) ?? i + 1;
    const strength = num(h.strength);
    const invalidation = isObj(h.invalidation) ? num(h.invalidation.price) : undefined;
    lines.push(
      `${rank}. ${str(h.symbol) ?? '?'} ${str(h.direction) ?? ''} ${scanLabel(h.scan_type)}` +
        `${strength !== undefined ? `, strength ${strength}` : ''}` +
        `, close ${price(h.last_close)}` +
        `${invalidation !== undefined ? `, invalid beyond ${formatPrice(invalidation)}` : ''}`,
    );
  });
  const universe = isObj(o.universe) ? o.universe : {};
  const conditions = isObj(o.market_conditions) ? o.market_conditions : {};
  const breadth = num(conditions.breadth_pct);
  const markets = num(conditions.with_ema50) ?? num(universe.scanned);
  if (breadth !== undefined) {
    lines.push(
      `Breadth: ${formatPct(breadth, false, 1)} of ${markets ?? '?'} markets above their 50-candle EMA`,
    );
  } else if (!hits.length && markets !== undefined) {
    lines.push(`${markets} markets scanned`);
  }
  const type = str(o.scan_type);
  const scope = [type && type !== 'all' ? scanLabel(type) : '', tf].filter(Boolean).join(' ');
  return {
    kind: 'scan',
    title: `Market scan${scope ? ` ${scope}` : ''}: ${total ? `${total} setup${total === 1 ? '' : 's'}` : 'no setups'}`,
    subtitle: hits.length && hits.length < total ? `(top ${Math.min(hits.length, 10)})` : '',
    lines,
    footer: footer(o, now),
  };
}

function formatOpportunity(o: Obj, now: number, timeframe?: string): FormattedMessage {
  const lines = tradePlan(o as Parameters<typeof tradePlan>[0]);
  const htf = isObj(o.higher_timeframe) ? o.higher_timeframe : undefined;
  if (htf && str(htf.timeframe) && str(htf.trend)) {
    const agrees = htf.agrees === true ? ' (agrees)' : htf.agrees === false ? ' (disagrees)' : '';
    lines.push(`${str(htf.timeframe)} trend ${str(htf.trend)}${agrees}`);
  }
  const why = topReasons(o.rationale, str(o.action));
  if (why) lines.push(why);
  const tf = timeframe ?? str(o.timeframe);
  const direction = str(o.direction);
  return {
    kind: 'opportunity',
    title: `${str(o.symbol)}${tf ? ` ${tf}` : ''}: ${str(o.action)}${direction ? ` (${direction})` : ''}`,
    subtitle: `(confidence ${num(o.confidence)}/100)`,
    lines,
    footer: footer(o, now),
  };
}

function formatOpportunities(o: Obj, now: number): FormattedMessage {
  const ideas = objs(o.ideas);
  const tf = str(o.timeframe);
  const criteria = isObj(o.criteria) ? o.criteria : {};
  const threshold = num(criteria.confidence_threshold);
  const lines: string[] = [];
  ideas.slice(0, 10).forEach((idea, i) => {
    const targets = objs(idea.targets)
      .map((t) => num(t.price))
      .filter((p): p is number => p !== undefined);
    const rr = num(idea.risk_reward);
    lines.push(
      `${num(idea.rank) ?? i + 1}. ${str(idea.symbol) ?? '?'} ${str(idea.action) ?? ''}, confidence ${num(idea.confidence) ?? '?'}` +
        `, entry ${price(idea.entry)}, stop ${price(idea.stop_loss)}` +
        `${targets.length ? `, target ${formatPrice(targets[0]!)}` : ''}` +
        `${rr !== undefined ? `, R:R ${formatAmount(rr)}` : ''}`,
    );
  });
  if (!ideas.length) {
    const scan = isObj(o.scan) ? o.scan : {};
    const scanned = num(scan.scanned);
    const analysed = num(scan.candidates_analysed);
    if (scanned !== undefined) {
      lines.push(
        `${scanned} markets scanned${analysed !== undefined ? `, ${analysed} analysed` : ''}; nothing reached the threshold`,
      );
    }
  }
  const scope = [tf, threshold !== undefined ? `confidence ≥ ${threshold}` : ''].filter(Boolean).join(', ');
  const count = ideas.length;
  return {
    kind: 'opportunities',
    title: count ? `${count} trade idea${count === 1 ? '' : 's'}` : 'No trade ideas',
    subtitle: scope ? `(${scope})` : '',
    lines,
    footer: footer(o, now),
  };
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

function formatPortfolio(o: Obj, now: number): FormattedMessage {
  const portfolio = isObj(o.portfolio) ? o.portfolio : {};
  const valuation = o.valuation as Obj;
  const currency = str(portfolio.base_currency) ?? '';
  const money = (x: unknown) => {
    const n = num(x);
    return n === undefined ? 'n/a' : `${formatAmount(n)}${currency ? ` ${currency}` : ''}`;
  };
  const basket = portfolio.mode === 'equal_weight_basket';
  const name = str(portfolio.id);
  const total = num(valuation.total_value);
  const pnl = num(valuation.unrealized_pnl);
  const pnlPct = num(valuation.unrealized_pnl_pct);
  const lines: string[] = [];
  const positions = objs(o.positions)
    .slice()
    .sort((a, b) => (num(b.weight_pct) ?? 0) - (num(a.weight_pct) ?? 0));
  const shown = positions.slice(0, 5).map((p) => {
    const weight = num(p.weight_pct);
    const change = num(p.unrealized_pnl_pct);
    return (
      `${str(p.symbol) ?? '?'} ${weight !== undefined ? formatPct(weight, false, 1) : ''}` +
      `${change !== undefined ? ` (${formatPct(change, true)})` : ''}`
    ).trim();
  });
  if (shown.length) {
    lines.push(
      `Holdings: ${shown.join(', ')}${positions.length > 5 ? `, +${positions.length - 5} more` : ''}`,
    );
  }
  const risk = isObj(o.risk) ? o.risk : {};
  const riskParts: string[] = [];
  const var95 = isObj(risk.one_day_var_95) ? risk.one_day_var_95 : undefined;
  if (var95 && num(var95.pct) !== undefined) {
    const amount = num(var95.amount);
    riskParts.push(
      `1-day VaR 95% ${formatPct(num(var95.pct)!)}${amount !== undefined ? ` (${money(amount)})` : ''}`,
    );
  }
  const drawdown = isObj(risk.max_drawdown) ? num(risk.max_drawdown.pct) : undefined;
  if (drawdown !== undefined) riskParts.push(`max drawdown ${formatPct(drawdown)}`);
  const vol = isObj(risk.volatility) ? num(risk.volatility.annualized_pct) : undefined;
  if (vol !== undefined) riskParts.push(`volatility ${formatPct(vol)}/yr`);
  if (riskParts.length) {
    const level = str(o.risk_level);
    lines.push(`Risk${level ? ` (${level})` : ''}: ${riskParts.join(', ')}`);
  }
  const recommendations = objs(o.recommendations)
    .filter((r) => str(r.message))
    .sort(
      (a, b) => (SEVERITY_ORDER[str(a.severity) ?? ''] ?? 3) - (SEVERITY_ORDER[str(b.severity) ?? ''] ?? 3),
    );
  for (const r of recommendations.slice(0, 3)) {
    lines.push(`${(str(r.severity) ?? 'note').toUpperCase()}: ${str(r.message)}`);
  }
  if (!recommendations.length && positions.length) lines.push('No risk limit breached.');
  const subtitle = basket
    ? '(equal-weight basket)'
    : pnl !== undefined
      ? `(unrealised P&L ${pnl > 0 ? '+' : ''}${money(pnl)}${pnlPct !== undefined ? `, ${formatPct(pnlPct, true)}` : ''})`
      : '';
  return {
    kind: 'portfolio',
    title: `Portfolio${name ? ` ${name}` : ''}${total !== undefined && !basket ? `: ${money(total)}` : ''}`,
    subtitle,
    lines,
    footer: footer(o, now),
  };
}

const fixed2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Whether the alert text already shows `value` (as the server writes numbers, or as we would). */
function mentions(text: string, value: number): boolean {
  return [formatPrice(value), fixed2.format(value), String(value)].some((form) => text.includes(form));
}

/**
 * The server's alert webhook payload: its rendered message, then the values and the firing time when
 * the message does not show them already.
 */
function formatAlert(o: Obj): FormattedMessage {
  const text = cleanText(str(o.message)!);
  const lines = text.split('\n');
  const values = isObj(o.values) ? o.values : {};
  const shown = Object.entries(values)
    .filter(([, v]) => num(v) !== undefined && !mentions(text, v as number))
    .slice(0, 6)
    .map(([k, v]) => `${k} ${formatPrice(v as number)}`);
  if (shown.length) lines.push(`Values: ${shown.join(', ')}`);
  const at = num(o.at) ?? str(o.at);
  if (at !== undefined && !text.includes(formatTime(at))) lines.push(`Fired ${formatTime(at)}`);
  return { kind: 'alert', title: 'Crypto alert', subtitle: '', lines, footer: [DISCLAIMER] };
}

const TITLE_KEYS = ['title', 'subject', 'headline', 'name', 'symbol'];
const TEXT_KEYS = ['message', 'text', 'summary', 'description', 'content'];

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return str(value) ? cleanText(value).replace(/\s+/g, ' ') : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? formatPrice(value) : undefined;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return undefined;
}

/** A compact summary of any item: a title, its text field, then up to 10 scalar fields (one level deep). */
function formatGeneric(o: Obj): FormattedMessage {
  const used = new Set<string>();
  const titleKey = TITLE_KEYS.find((k) => str(o[k]));
  if (titleKey) used.add(titleKey);
  const textKey = TEXT_KEYS.find((k) => str(o[k]));
  if (textKey) used.add(textKey);
  const lines = textKey ? cleanText(str(o[textKey])!).split('\n') : [];
  const fields: string[] = [];
  for (const [key, value] of Object.entries(o)) {
    if (used.has(key) || fields.length >= 10) continue;
    const direct = scalar(value);
    if (direct !== undefined) {
      fields.push(`${key}: ${direct}`);
      continue;
    }
    if (isObj(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        const text = scalar(innerValue);
        if (text !== undefined && fields.length < 10) fields.push(`${key}.${inner}: ${text}`);
      }
    }
  }
  lines.push(...fields);
  if (!lines.length) lines.push('(the item has no readable fields)');
  return {
    kind: 'generic',
    title: titleKey ? cleanText(str(o[titleKey])!).replace(/\s+/g, ' ') : 'Alert',
    subtitle: '',
    lines,
    footer: [DISCLAIMER],
  };
}

/** The message for an item. `now` (ms) dates the data age. */
export function formatItem(json: unknown, now: number): FormattedMessage {
  const { kind, data } = detectItem(json);
  switch (kind) {
    case 'analysis':
      return formatAnalysis(data, now);
    case 'scan':
      return formatScan(data, now);
    case 'scanHit':
      return formatScanHit(data, now);
    case 'opportunities':
      return formatOpportunities(data, now);
    case 'opportunity':
      return formatOpportunity(data, now);
    case 'portfolio':
      return formatPortfolio(data, now);
    case 'alert':
      return formatAlert(data);
    default:
      return formatGeneric(data);
  }
}

/** The WhatsApp body: `*title* subtitle`, the lines, the footer; cut to `max` keeping the footer. */
export function renderMessage(message: FormattedMessage, max: number): { text: string; truncated: boolean } {
  const head = `*${message.title}*${message.subtitle ? ` ${message.subtitle}` : ''}`;
  const body = cleanText([head, ...message.lines].join('\n'));
  return fitWithFooter(body, message.footer.join('\n'), max);
}

/**
 * One line for a template variable: `title subtitle: line · line · footer`, without WhatsApp markup,
 * normalised (no new lines, tabs or runs of spaces) and cut to `max`.
 */
export function renderOneLine(message: FormattedMessage, max: number): string {
  const head = `${message.title}${message.subtitle ? ` ${message.subtitle}` : ''}`;
  const body = normalizeVariable(
    message.lines.length ? `${head}: ${message.lines.join(' · ')}` : head,
    Number.MAX_SAFE_INTEGER,
  );
  const foot = normalizeVariable(message.footer.join(' · '), Number.MAX_SAFE_INTEGER);
  return fitWithFooter(body, foot, max, ' · ').text;
}
