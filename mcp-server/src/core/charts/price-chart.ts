/**
 * Price with the trades of a backtest as an SVG string: candles when there are few enough to see, else
 * the close as a line over a light high-low band; each trade's entry as a triangle (long: green, pointing
 * up, below the price; short: red, pointing down, above it), its exit as an x, and a thin line joining the
 * two (green for a gain, red for a loss). Pure and deterministic.
 */
import {
  CHART_HEIGHT,
  CHART_WIDTH,
  COLORS,
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

export interface PriceBar {
  /** Open time, ms. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface ChartTrade {
  side: 'long' | 'short';
  entryTime: number;
  entryPrice: number;
  exitTime: number;
  exitPrice: number;
  /** Net P&L; colours the line joining entry and exit when given. */
  pnl?: number;
}

export interface PriceChartInput {
  title: string;
  subtitle?: string;
  caption: string;
  /** Oldest first; may be buckets of several candles (open of the first, max high, min low, last close). */
  bars: PriceBar[];
  trades: ChartTrade[];
}

/** Above this many bars a candle would be under 2 px wide: the close line is drawn instead. */
export const MAX_CANDLES_DRAWN = 240;
/** Above this many trades only the most recent are marked (the caption says so). */
export const MAX_TRADE_MARKERS = 1000;

const LEFT = 78;
const RIGHT = 20;
const PLOT: Panel = {
  left: LEFT,
  top: 56,
  width: CHART_WIDTH - LEFT - RIGHT,
  height: CHART_HEIGHT - 56 - 56,
};

export function priceChartSvg(input: PriceChartInput): string {
  const bars = input.bars.filter(
    (b) => Number.isFinite(b.time) && [b.open, b.high, b.low, b.close].every(Number.isFinite),
  );
  const subtitle = input.subtitle;
  if (bars.length === 0) {
    return svgDocument({
      title: input.title,
      ...(subtitle !== undefined && { subtitle }),
      caption: input.caption,
      body: text(CHART_WIDTH / 2, CHART_HEIGHT / 2, 'No price data', {
        anchor: 'middle',
        color: COLORS.muted,
      }),
    });
  }
  const trades = input.trades.slice(-MAX_TRADE_MARKERS);
  const omitted = input.trades.length - trades.length;

  // Half a bar of room on each side so the first and last candles are whole.
  const spacing =
    bars.length > 1 ? (bars[bars.length - 1]!.time - bars[0]!.time) / (bars.length - 1) : 3_600_000;
  const t0 = bars[0]!.time - spacing / 2;
  const t1 = bars[bars.length - 1]!.time + spacing / 2;
  const x = linearScale(t0, t1, PLOT.left, PLOT.left + PLOT.width);

  let lo = Infinity;
  let hi = -Infinity;
  for (const b of bars) {
    lo = Math.min(lo, b.low);
    hi = Math.max(hi, b.high);
  }
  for (const t of trades) {
    for (const p of [t.entryPrice, t.exitPrice]) {
      if (Number.isFinite(p)) {
        lo = Math.min(lo, p);
        hi = Math.max(hi, p);
      }
    }
  }
  const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.01 || 1;
  lo -= pad;
  hi += pad;
  const y = linearScale(lo, hi, PLOT.top + PLOT.height, PLOT.top);
  const ticks = niceTicks(lo, hi, 6);

  const parts: string[] = [];
  parts.push(valueAxis(PLOT, y, ticks.ticks, ticks.step));
  parts.push(timeAxis(PLOT, x, t0, t1, true));

  if (bars.length <= MAX_CANDLES_DRAWN) {
    const body = Math.max(1, ((PLOT.width / bars.length) * 0.7) | 0);
    const candles: string[] = [];
    for (const b of bars) {
      const xx = x(b.time);
      const color = b.close >= b.open ? COLORS.up : COLORS.down;
      const top = y(Math.max(b.open, b.close));
      const h = Math.max(1, y(Math.min(b.open, b.close)) - top);
      candles.push(
        `<line x1="${n(xx)}" y1="${n(y(b.high))}" x2="${n(xx)}" y2="${n(y(b.low))}" stroke="${color}" stroke-width="1"/>` +
          `<rect x="${n(xx - body / 2)}" y="${n(top)}" width="${body}" height="${n(h)}" fill="${color}"/>`,
      );
    }
    parts.push(`<g class="candles">${candles.join('')}</g>`);
  } else {
    const xs = bars.map((b) => x(b.time));
    const band =
      pathThrough(
        xs,
        bars.map((b) => y(b.high)),
      ) +
      [...bars]
        .reverse()
        .map((b) => `L${n(x(b.time))},${n(y(b.low))}`)
        .join('') +
      'Z';
    parts.push(`<path class="range" d="${band}" fill="${COLORS.line}" fill-opacity="0.12" stroke="none"/>`);
    parts.push(
      `<path class="close" d="${pathThrough(
        xs,
        bars.map((b) => y(b.close)),
      )}" fill="none" stroke="${COLORS.line}" stroke-width="1.2"/>`,
    );
  }

  const links: string[] = [];
  const entries: string[] = [];
  const exits: string[] = [];
  for (const t of trades) {
    const ex = x(t.entryTime);
    const ey = y(t.entryPrice);
    const hasExit = Number.isFinite(t.exitTime) && Number.isFinite(t.exitPrice);
    if (hasExit) {
      const xx = x(t.exitTime);
      const yy = y(t.exitPrice);
      const won =
        t.pnl !== undefined ? t.pnl >= 0 : (t.exitPrice - t.entryPrice) * (t.side === 'long' ? 1 : -1) >= 0;
      links.push(
        `<line x1="${n(ex)}" y1="${n(ey)}" x2="${n(xx)}" y2="${n(yy)}" stroke="${won ? COLORS.up : COLORS.down}" ` +
          'stroke-width="1" stroke-opacity="0.7" stroke-dasharray="3 2"/>',
      );
      exits.push(
        `<path class="exit" d="M${n(xx - 4)},${n(yy - 4)}L${n(xx + 4)},${n(yy + 4)}M${n(xx - 4)},${n(yy + 4)}L${n(xx + 4)},${n(yy - 4)}" ` +
          `stroke="${COLORS.exit}" stroke-width="1.6" fill="none"/>`,
      );
    }
    entries.push(
      t.side === 'long'
        ? `<path class="entry-long" d="M${n(ex)},${n(ey + 2)}l-5,9h10z" fill="${COLORS.up}"/>`
        : `<path class="entry-short" d="M${n(ex)},${n(ey - 2)}l-5,-9h10z" fill="${COLORS.down}"/>`,
    );
  }
  parts.push(`<g class="trade-links">${links.join('')}</g>`);
  parts.push(`<g class="entries">${entries.join('')}</g>`);
  parts.push(`<g class="exits">${exits.join('')}</g>`);
  parts.push(panelBorder(PLOT));
  parts.push(legend());

  const caption =
    omitted > 0
      ? `${input.caption} | markers for the last ${trades.length} of ${input.trades.length} trades`
      : input.caption;
  return svgDocument({
    title: input.title,
    ...(subtitle !== undefined && { subtitle }),
    caption,
    body: parts.join(''),
    label: `${input.title}: price with ${input.trades.length} trades`,
  });
}

function legend(): string {
  const x0 = CHART_WIDTH - RIGHT - 250;
  return (
    '<g class="legend">' +
    `<path d="M${x0},33l-5,9h10z" fill="${COLORS.up}"/>` +
    text(x0 + 9, 42, 'Long entry', { size: 10 }) +
    `<path d="M${x0 + 85},42l-5,-9h10z" fill="${COLORS.down}"/>` +
    text(x0 + 94, 42, 'Short entry', { size: 10 }) +
    `<path d="M${x0 + 170},34L${x0 + 178},42M${x0 + 170},42L${x0 + 178},34" stroke="${COLORS.exit}" stroke-width="1.6" fill="none"/>` +
    text(x0 + 184, 42, 'Exit', { size: 10 }) +
    '</g>'
  );
}
