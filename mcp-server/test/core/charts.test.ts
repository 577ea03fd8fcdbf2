/**
 * Chart builders: well-formed, deterministic SVG with escaped text, one marker per trade entry and exit,
 * and PNG rendering through resvg.
 */
import { describe, expect, it } from 'vitest';
import { equityChartSvg, type EquityPoint } from '../../src/core/charts/equity-chart.js';
import { priceChartSvg, type ChartTrade, type PriceBar } from '../../src/core/charts/price-chart.js';
import { escapeXml, niceTicks, timeTicks } from '../../src/core/charts/svg.js';
import { renderChart, svgToPng } from '../../src/services/chart-render.js';

/**
 * A small XML well-formedness check: every tag closes in order, attribute values are quoted, entity
 * references are the predefined ones, and no raw `<` or `&` sits in text. Returns the element names seen.
 */
function parseXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const checkText = (s: string) => {
    if (s.includes('<')) throw new Error(`raw < in text: ${s.slice(0, 40)}`);
    const amp = s.match(/&[^;]*;?/g) ?? [];
    for (const a of amp) {
      if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);$/i.test(a)) throw new Error(`bad entity ${a}`);
    }
  };
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      checkText(xml.slice(i));
      break;
    }
    checkText(xml.slice(i, lt));
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag.slice(0, 60)}>`);
    for (const attr of m[2]!.match(/"[^"]*"/g) ?? []) checkText(attr);
    const attrNames = [...m[2]!.matchAll(/\s([\w:-]+)=/g)].map((a) => a[1]);
    if (new Set(attrNames).size !== attrNames.length) throw new Error(`duplicate attribute in <${m[1]}>`);
    names.push(m[1]!);
    if (!selfClosing) stack.push(m[1]!);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 2, 1);

function bars(n: number): PriceBar[] {
  return Array.from({ length: n }, (_, i) => {
    const open = 100 + 10 * Math.sin(i / 9);
    const close = 100 + 10 * Math.sin((i + 1) / 9);
    return {
      time: T0 + i * HOUR,
      open,
      close,
      high: Math.max(open, close) + 1,
      low: Math.min(open, close) - 1,
    };
  });
}

function trades(b: PriceBar[], count: number): ChartTrade[] {
  return Array.from({ length: count }, (_, k) => {
    const i = 5 + k * 10;
    return {
      side: k % 3 === 2 ? 'short' : 'long',
      entryTime: b[i]!.time,
      entryPrice: b[i]!.open,
      exitTime: b[i + 6]!.time,
      exitPrice: b[i + 6]!.open,
      pnl: k % 2 ? 5 : -5,
    };
  });
}

function equity(n: number): EquityPoint[] {
  let peak = -Infinity;
  return Array.from({ length: n }, (_, i) => {
    const e = 10_000 * (1 + 0.2 * Math.sin(i / 20) + i / 2000);
    peak = Math.max(peak, e);
    return { time: T0 + i * HOUR, equity: e, drawdownPct: (1 - e / peak) * 100, benchmark: 10_000 + i };
  });
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

describe('price chart', () => {
  it('is well-formed SVG with one entry and one exit marker per trade', () => {
    const b = bars(120);
    const t = trades(b, 10);
    const svg = priceChartSvg({ title: 'BTC/USDT 1h', caption: 'Data: offline', bars: b, trades: t });
    const names = parseXml(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="900" height="480"/);
    const longs = t.filter((x) => x.side === 'long').length;
    expect(count(svg, 'class="entry-long"')).toBe(longs);
    expect(count(svg, 'class="entry-short"')).toBe(t.length - longs);
    expect(count(svg, 'class="exit"')).toBe(t.length);
    expect(svg).toContain('<g class="candles">');
  });

  it('draws a close line instead of candles for long series, still marking every trade', () => {
    const b = bars(2_000);
    const t = trades(b, 150);
    const svg = priceChartSvg({ title: 'x', caption: 'y', bars: b, trades: t });
    parseXml(svg);
    expect(svg).not.toContain('<g class="candles">');
    expect(svg).toContain('class="close"');
    expect(count(svg, 'class="entry-long"') + count(svg, 'class="entry-short"')).toBe(150);
    expect(count(svg, 'class="exit"')).toBe(150);
  });

  it('escapes every text it is given', () => {
    const evil = '<script>alert("x")</script> & \'quotes\'';
    const svg = priceChartSvg({ title: evil, subtitle: evil, caption: evil, bars: bars(10), trades: [] });
    parseXml(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quotes&apos;');
  });

  it('is deterministic and copes with no data', () => {
    const b = bars(50);
    const input = { title: 't', caption: 'c', bars: b, trades: trades(b, 3) };
    expect(priceChartSvg(input)).toBe(priceChartSvg(structuredClone(input)));
    parseXml(priceChartSvg({ title: 't', caption: 'c', bars: [], trades: [] }));
  });
});

describe('equity chart', () => {
  it('is well-formed SVG with the equity line, the drawdown area and time labels', () => {
    const svg = equityChartSvg({
      title: 'Equity <ema_cross>',
      caption: 'Data: offline snapshot & more',
      points: equity(300),
      initialCapital: 10_000,
      shaded: [{ start: T0 + 100 * HOUR, end: T0 + 200 * HOUR, label: 'test' }],
    });
    parseXml(svg);
    expect(count(svg, 'class="equity"')).toBe(1);
    expect(count(svg, 'class="drawdown"')).toBe(1);
    expect(count(svg, 'class="benchmark"')).toBe(1);
    expect(svg).toContain('Equity &lt;ema_cross&gt;');
    expect(svg).toContain('Data: offline snapshot &amp; more');
    expect(svg).toMatch(/Mar/); // a time label
    expect(equityChartSvg({ title: 'a', caption: 'b', points: equity(30) })).toBe(
      equityChartSvg({ title: 'a', caption: 'b', points: equity(30) }),
    );
  });

  it('copes with a flat curve, one point, and none', () => {
    const flat = equity(20).map((p) => ({ ...p, equity: 10_000, drawdownPct: 0, benchmark: null }));
    parseXml(equityChartSvg({ title: 'flat', caption: '', points: flat }));
    parseXml(equityChartSvg({ title: 'one', caption: '', points: flat.slice(0, 1) }));
    parseXml(equityChartSvg({ title: 'none', caption: '', points: [] }));
  });
});

describe('svg helpers', () => {
  it('escapes markup and drops characters XML forbids', () => {
    expect(escapeXml('a<b>&"\'\u0001')).toBe('a&lt;b&gt;&amp;&quot;&apos;');
  });

  it('picks round ticks and calendar-aligned times', () => {
    expect(niceTicks(0, 10, 5).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(9_870, 10_230, 4).ticks).toEqual([9_900, 10_000, 10_100, 10_200]);
    const ticks = timeTicks(Date.UTC(2025, 0, 15), Date.UTC(2025, 11, 20), 6);
    expect(ticks.every((t) => new Date(t.time).getUTCDate() === 1)).toBe(true);
    expect(ticks.map((t) => t.label)).toEqual(['Apr 2025', 'Jul 2025', 'Oct 2025']); // quarters
  });
});

describe('PNG rendering', () => {
  const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

  it('renders both charts to PNG', async () => {
    const b = bars(100);
    const png = svgToPng(priceChartSvg({ title: 'p', caption: 'c', bars: b, trades: trades(b, 5) }));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    // IHDR: width and height as rendered.
    expect(png.readUInt32BE(16)).toBe(900);
    expect(png.readUInt32BE(20)).toBe(480);
    const rendered = await renderChart(
      equityChartSvg({ title: 'e', caption: 'c', points: equity(50) }),
      'png',
    );
    expect(rendered).toMatchObject({ format: 'png', mimeType: 'image/png' });
    expect(rendered.data.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const svg = await renderChart('<svg xmlns="http://www.w3.org/2000/svg"/>', 'svg');
    expect(svg).toMatchObject({ format: 'svg', mimeType: 'image/svg+xml' });
  });
});
