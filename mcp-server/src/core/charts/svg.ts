/**
 * Small pieces shared by the chart builders: XML escaping, fixed-precision coordinates, linear scales,
 * "nice" value ticks, calendar-aligned time ticks, and the document frame with title and caption.
 *
 * Everything is pure and deterministic: the same input gives the same bytes (no clock, no random ids,
 * numbers printed with a fixed number of decimals, UTC times).
 */

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 480;
export const FONT_FAMILY = 'DejaVu Sans, Arial, Helvetica, sans-serif';

export const COLORS = {
  background: '#ffffff',
  text: '#1f2933',
  muted: '#6b7785',
  grid: '#e4e8ec',
  axis: '#9aa5b1',
  equity: '#1f6feb',
  benchmark: '#9aa5b1',
  drawdown: '#d1242f',
  up: '#1a7f37',
  down: '#cf222e',
  line: '#3d4852',
  exit: '#24292f',
} as const;

/** Text safe inside an element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  const escaped = text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
  return withoutForbidden(escaped);
}

/** Drops the control characters XML 1.0 does not allow (all below U+0020 but tab, line feed, return). */
function withoutForbidden(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) out += text[i];
  }
  return out;
}

/** A coordinate with at most two decimals, without trailing zeros (so output is stable and compact). */
export function n(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const r = Math.round(value * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Linear map from [d0, d1] to [r0, r1]; a degenerate domain maps to the middle of the range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (!(d1 > d0)) {
    const mid = (r0 + r1) / 2;
    return () => mid;
  }
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Round numbers covering [min, max]: about `count` ticks on steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; step: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [], step: 1 };
  if (max === min) {
    const pad = Math.abs(min) * 0.01 || 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return { ticks, step };
}

/** A value label with as many decimals as the tick step needs (thousands separated by a thin space). */
export function formatValue(value: number, step?: number): string {
  const abs = Math.abs(value);
  const decimals =
    step !== undefined
      ? Math.min(8, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)))
      : abs >= 1000
        ? 0
        : abs >= 1
          ? 2
          : Math.min(8, Math.max(2, 1 - Math.floor(Math.log10(abs || 1)) + 2));
  const fixed = (Object.is(value, -0) ? 0 : value).toFixed(decimals);
  const [int, frac] = fixed.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type TimeStep = { ms: number; unit: 'minute' | 'hour' | 'day' | 'month' | 'year'; every: number };

const TIME_STEPS: TimeStep[] = [
  { ms: 15 * MINUTE, unit: 'minute', every: 15 },
  { ms: 30 * MINUTE, unit: 'minute', every: 30 },
  { ms: HOUR, unit: 'hour', every: 1 },
  { ms: 3 * HOUR, unit: 'hour', every: 3 },
  { ms: 6 * HOUR, unit: 'hour', every: 6 },
  { ms: 12 * HOUR, unit: 'hour', every: 12 },
  { ms: DAY, unit: 'day', every: 1 },
  { ms: 2 * DAY, unit: 'day', every: 2 },
  { ms: 7 * DAY, unit: 'day', every: 7 },
  { ms: 14 * DAY, unit: 'day', every: 14 },
  { ms: 30 * DAY, unit: 'month', every: 1 },
  { ms: 91 * DAY, unit: 'month', every: 3 },
  { ms: 182 * DAY, unit: 'month', every: 6 },
  { ms: 365 * DAY, unit: 'year', every: 1 },
  { ms: 2 * 365 * DAY, unit: 'year', every: 2 },
  { ms: 5 * 365 * DAY, unit: 'year', every: 5 },
];

/** Calendar-aligned UTC ticks between t0 and t1 (ms), about `count` of them, with short labels. */
export function timeTicks(t0: number, t1: number, count = 6): { time: number; label: string }[] {
  if (!(t1 > t0)) return Number.isFinite(t0) ? [{ time: t0, label: dateLabel(t0, 'day') }] : [];
  const target = (t1 - t0) / Math.max(1, count);
  const step = TIME_STEPS.find((s) => s.ms >= target) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const out: { time: number; label: string }[] = [];
  for (let t = firstTick(t0, step); t <= t1 && out.length < 50; t = nextTick(t, step)) {
    if (t >= t0) out.push({ time: t, label: dateLabel(t, step.unit) });
  }
  return out;
}

function firstTick(t0: number, step: TimeStep): number {
  const d = new Date(t0);
  if (step.unit === 'year') {
    const y = Math.ceil(d.getUTCFullYear() / step.every) * step.every;
    return Date.UTC(y, 0, 1);
  }
  if (step.unit === 'month') {
    const m = d.getUTCFullYear() * 12 + d.getUTCMonth();
    const aligned = Math.ceil(m / step.every) * step.every;
    return Date.UTC(Math.floor(aligned / 12), aligned % 12, 1);
  }
  return Math.ceil(t0 / step.ms) * step.ms;
}

function nextTick(t: number, step: TimeStep): number {
  const d = new Date(t);
  if (step.unit === 'year') return Date.UTC(d.getUTCFullYear() + step.every, 0, 1);
  if (step.unit === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + step.every, 1);
  return t + step.ms;
}

function dateLabel(t: number, unit: TimeStep['unit']): string {
  const d = new Date(t);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  if (unit === 'year') return String(d.getUTCFullYear());
  if (unit === 'month') return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  if (unit === 'day') return day;
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? day : hm;
}

/** An ISO-like UTC stamp without seconds, e.g. 2025-03-01 14:00 UTC. */
export function utcStamp(t: number): string {
  if (!Number.isFinite(t)) return 'n/a';
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  color?: string;
  weight?: 'normal' | 'bold';
  cls?: string;
}

export function text(x: number, y: number, content: string, o: TextOptions = {}): string {
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `font-size="${o.size ?? 11}"`,
    `fill="${o.color ?? COLORS.text}"`,
    ...(o.anchor && o.anchor !== 'start' ? [`text-anchor="${o.anchor}"`] : []),
    ...(o.weight === 'bold' ? ['font-weight="bold"'] : []),
    ...(o.cls ? [`class="${o.cls}"`] : []),
  ];
  return `<text ${attrs.join(' ')}>${escapeXml(content)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${stroke}" stroke-width="${width}"/>`;
}

/** A polyline path through the points (skipping non-finite values, which break the line). */
export function pathThrough(xs: ArrayLike<number>, ys: ArrayLike<number>): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${n(x)},${n(y)}`;
    pen = true;
  }
  return d;
}

/** A plot rectangle inside the chart. */
export interface Panel {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Horizontal grid lines and value labels on the left of a panel. */
export function valueAxis(
  panel: Panel,
  y: (v: number) => number,
  ticks: number[],
  step: number,
  unit = '',
): string {
  const parts: string[] = [];
  for (const v of ticks) {
    const yy = y(v);
    if (yy < panel.top - 0.5 || yy > panel.top + panel.height + 0.5) continue;
    parts.push(line(panel.left, yy, panel.left + panel.width, yy, COLORS.grid));
    parts.push(
      text(panel.left - 6, yy + 4, `${formatValue(v, step)}${unit}`, {
        anchor: 'end',
        size: 10,
        color: COLORS.muted,
      }),
    );
  }
  return parts.join('');
}

/** Vertical grid lines, and time labels under the panel when `labels`. */
export function timeAxis(
  panel: Panel,
  x: (t: number) => number,
  t0: number,
  t1: number,
  labels: boolean,
): string {
  const parts: string[] = [];
  for (const tick of timeTicks(t0, t1, 6)) {
    const xx = x(tick.time);
    parts.push(line(xx, panel.top, xx, panel.top + panel.height, COLORS.grid));
    if (labels) {
      parts.push(
        text(xx, panel.top + panel.height + 14, tick.label, {
          anchor: 'middle',
          size: 10,
          color: COLORS.muted,
        }),
      );
    }
  }
  return parts.join('');
}

export function panelBorder(panel: Panel): string {
  return `<rect x="${n(panel.left)}" y="${n(panel.top)}" width="${n(panel.width)}" height="${n(panel.height)}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>`;
}

/** The whole document: white background, title on top, caption at the bottom left, `body` between. */
export function svgDocument(options: {
  title: string;
  subtitle?: string;
  caption: string;
  body: string;
  width?: number;
  height?: number;
  label?: string;
}): string {
  const width = options.width ?? CHART_WIDTH;
  const height = options.height ?? CHART_HEIGHT;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" `,
    `font-family="${escapeXml(FONT_FAMILY)}" role="img" aria-label="${escapeXml(options.label ?? options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="${COLORS.background}"/>`,
    text(16, 24, options.title, { size: 15, weight: 'bold', cls: 'title' }),
    options.subtitle
      ? text(16, 42, options.subtitle, { size: 11, color: COLORS.muted, cls: 'subtitle' })
      : '',
    options.body,
    text(16, height - 10, options.caption, { size: 10, color: COLORS.muted, cls: 'caption' }),
    '</svg>',
  ].join('');
}
