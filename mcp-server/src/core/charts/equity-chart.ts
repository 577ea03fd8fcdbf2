/**
 * The equity curve of a backtest as an SVG string: equity (and optionally buy-and-hold) over time in the
 * upper panel, the drawdown from the running peak as a filled area in the panel beneath, a shared UTC time
 * axis, title, legend and a source/age caption. Pure and deterministic.
 */
import {
  CHART_HEIGHT,
  CHART_WIDTH,
  COLORS,
  line,
  linearScale,
  n,
  niceTicks,
  panelBorder,
  pathThrough,
  svgDocument,
  text,
  timeAxis,
  valueAxis,
  type Panel,
} from './svg.js';

export interface EquityPoint {
  /** ms since the epoch. */
  time: number;
  equity: number;
  /** Drawdown from the running peak, in % (0 at a peak, positive below it). */
  drawdownPct: number;
  /** Buy-and-hold value at the same time, when known. */
  benchmark?: number | null;
}

export interface EquityChartInput {
  title: string;
  subtitle?: string;
  /** Source and age of the data, e.g. "Data: offline snapshot (binance), last candle 2025-06-18 (150 days old)". */
  caption: string;
  /** Oldest first. */
  points: EquityPoint[];
  /** Drawn as a dashed reference line. */
  initialCapital?: number;
  /** Shaded spans, e.g. out-of-sample windows (ms). */
  shaded?: { start: number; end: number; label?: string }[];
}

const LEFT = 78;
const RIGHT = 20;
const EQUITY: Panel = { left: LEFT, top: 56, width: CHART_WIDTH - LEFT - RIGHT, height: 250 };
const DRAWDOWN: Panel = { left: LEFT, top: 318, width: CHART_WIDTH - LEFT - RIGHT, height: 108 };

export function equityChartSvg(input: EquityChartInput): string {
  const pts = input.points.filter((p) => Number.isFinite(p.time) && Number.isFinite(p.equity));
  if (pts.length === 0) {
    return svgDocument({
      title: input.title,
      ...(input.subtitle !== undefined && { subtitle: input.subtitle }),
      caption: input.caption,
      body: text(CHART_WIDTH / 2, CHART_HEIGHT / 2, 'No equity data', {
        anchor: 'middle',
        color: COLORS.muted,
      }),
    });
  }
  const t0 = pts[0]!.time;
  const t1 = pts[pts.length - 1]!.time;
  const x = linearScale(t0, t1, EQUITY.left, EQUITY.left + EQUITY.width);

  const values = pts.flatMap((p) => [p.equity, ...(isNum(p.benchmark) ? [p.benchmark] : [])]);
  if (input.initialCapital !== undefined) values.push(input.initialCapital);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.01 || 1;
  lo -= pad;
  hi += pad;
  const y = linearScale(lo, hi, EQUITY.top + EQUITY.height, EQUITY.top);
  const valueTicks = niceTicks(lo, hi, 5);

  const maxDd = Math.max(0, ...pts.map((p) => (Number.isFinite(p.drawdownPct) ? p.drawdownPct : 0)));
  const ddTicks = niceTicks(0, Math.max(maxDd, 1), 3);
  const ddBottom = Math.max(ddTicks.ticks[ddTicks.ticks.length - 1] ?? 1, maxDd, 1);
  const yd = linearScale(0, ddBottom, DRAWDOWN.top, DRAWDOWN.top + DRAWDOWN.height);

  const parts: string[] = [];
  for (const s of input.shaded ?? []) {
    const a = Math.max(EQUITY.left, x(s.start));
    const b = Math.min(EQUITY.left + EQUITY.width, x(s.end));
    if (!(b > a)) continue;
    const shade = `fill="#f2f6fc" class="shaded"`;
    parts.push(
      `<rect x="${n(a)}" y="${EQUITY.top}" width="${n(b - a)}" height="${EQUITY.height}" ${shade}/>`,
    );
    parts.push(
      `<rect x="${n(a)}" y="${DRAWDOWN.top}" width="${n(b - a)}" height="${DRAWDOWN.height}" ${shade}/>`,
    );
    if (s.label) parts.push(text(a + 3, EQUITY.top + 11, s.label, { size: 9, color: COLORS.muted }));
  }
  parts.push(valueAxis(EQUITY, y, valueTicks.ticks, valueTicks.step));
  parts.push(timeAxis(EQUITY, x, t0, t1, false));
  parts.push(valueAxis(DRAWDOWN, yd, ddTicks.ticks, ddTicks.step, ' %'));
  parts.push(timeAxis(DRAWDOWN, x, t0, t1, true));

  if (input.initialCapital !== undefined) {
    const yc = y(input.initialCapital);
    parts.push(
      `<line x1="${n(EQUITY.left)}" y1="${n(yc)}" x2="${n(EQUITY.left + EQUITY.width)}" y2="${n(yc)}" ` +
        `stroke="${COLORS.axis}" stroke-width="1" stroke-dasharray="4 3"/>`,
    );
  }
  const xs = pts.map((p) => x(p.time));
  if (pts.some((p) => isNum(p.benchmark))) {
    const d = pathThrough(
      xs,
      pts.map((p) => (isNum(p.benchmark) ? y(p.benchmark) : NaN)),
    );
    parts.push(
      `<path class="benchmark" d="${d}" fill="none" stroke="${COLORS.benchmark}" stroke-width="1.2" stroke-dasharray="5 3"/>`,
    );
  }
  parts.push(
    `<path class="equity" d="${pathThrough(
      xs,
      pts.map((p) => y(p.equity)),
    )}" fill="none" stroke="${COLORS.equity}" stroke-width="1.6"/>`,
  );

  // Drawdown: an area hanging from the zero line at the top of its panel.
  const dd = pts.map((p) => yd(Number.isFinite(p.drawdownPct) ? Math.max(0, p.drawdownPct) : 0));
  const area =
    `M${n(xs[0]!)},${n(yd(0))}` +
    xs.map((xx, i) => `L${n(xx)},${n(dd[i]!)}`).join('') +
    `L${n(xs[xs.length - 1]!)},${n(yd(0))}Z`;
  parts.push(
    `<path class="drawdown" d="${area}" fill="${COLORS.drawdown}" fill-opacity="0.25" stroke="${COLORS.drawdown}" stroke-width="1"/>`,
  );

  parts.push(panelBorder(EQUITY), panelBorder(DRAWDOWN));
  parts.push(
    text(EQUITY.left + 6, EQUITY.top + EQUITY.height - 6, 'Equity', { size: 10, color: COLORS.muted }),
    text(DRAWDOWN.left + 6, DRAWDOWN.top + DRAWDOWN.height - 6, `Drawdown (max ${maxDd.toFixed(2)} %)`, {
      size: 10,
      color: COLORS.muted,
    }),
  );
  parts.push(legend(pts.some((p) => isNum(p.benchmark))));

  return svgDocument({
    title: input.title,
    ...(input.subtitle !== undefined && { subtitle: input.subtitle }),
    caption: input.caption,
    body: parts.join(''),
    label: `${input.title}: equity curve and drawdown`,
  });
}

function legend(benchmark: boolean): string {
  const right = CHART_WIDTH - RIGHT;
  const items: string[] = [];
  let xx = right - (benchmark ? 230 : 90);
  items.push(line(xx, 38, xx + 18, 38, COLORS.equity, 2), text(xx + 22, 42, 'Strategy', { size: 10 }));
  if (benchmark) {
    xx += 90;
    items.push(
      `<line x1="${n(xx)}" y1="38" x2="${n(xx + 18)}" y2="38" stroke="${COLORS.benchmark}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
      text(xx + 22, 42, 'Buy and hold', { size: 10 }),
    );
  }
  return `<g class="legend">${items.join('')}</g>`;
}

const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
