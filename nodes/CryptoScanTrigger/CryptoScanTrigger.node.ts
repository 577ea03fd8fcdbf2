import type {
  IDataObject,
  INodeExecutionData,
  INodeType,
  INodeTypeDescription,
  IPollFunctions,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import {
  compact,
  isMarketSymbol,
  normalizeSymbol,
  parseList,
  scanTypeOptions,
  timeframeOptions,
} from '../shared/fields';
import { callCryptoMcpTool } from '../shared/transport';

/** Setups remembered as already emitted; the oldest are forgotten first. */
export const MAX_SEEN_SETUPS = 500;

type Direction = 'any' | 'bullish' | 'bearish';

interface Filters {
  minConfidence: number;
  direction: Direction;
  symbols: string[] | undefined;
  maxSignalAge: number | undefined;
}

const SCAN_TYPE_LABELS: Record<string, string> = {
  breakouts: 'breakout',
  reversals: 'reversal',
  institutional: 'institutional setup',
  volume_surge: 'volume surge',
};

function formatNumber(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(Number(value.toPrecision(6))) : '?';
}

function matchesSymbol(symbol: string, wanted: string[] | undefined): boolean {
  if (!wanted) return true;
  const normalized = normalizeSymbol(symbol);
  const base = normalizeSymbol(symbol.split(/[/:_-]/)[0] ?? '');
  return wanted.some((w) => {
    const n = normalizeSymbol(w);
    return n === normalized || n === base;
  });
}

function matchesDirection(direction: unknown, wanted: Direction): boolean {
  if (wanted === 'any') return true;
  const bullish = direction === 'bullish' || direction === 'long';
  return wanted === 'bullish' ? bullish : !bullish;
}

/** Age of `asOf` at answer time, from the answer's own `as_of` and `data_age_ms`. */
function ageAt(asOf: unknown, result: IDataObject): number | undefined {
  const resultAge = typeof result.data_age_ms === 'number' ? result.data_age_ms : undefined;
  const here = typeof asOf === 'string' ? Date.parse(asOf) : NaN;
  const there = typeof result.as_of === 'string' ? Date.parse(result.as_of) : NaN;
  if (resultAge === undefined || Number.isNaN(here) || Number.isNaN(there)) return resultAge;
  return resultAge + Math.max(0, there - here);
}

/** Market scanner hits as setups: the hit plus the context a message needs. */
function scanSetups(result: IDataObject, filters: Filters): IDataObject[] {
  const hits = Array.isArray(result.hits) ? (result.hits as IDataObject[]) : [];
  const timeframe = String(result.timeframe ?? '');
  const exchange = String(result.exchange ?? '');
  return hits
    .filter(
      (hit) =>
        Number(hit.strength ?? 0) >= filters.minConfidence &&
        matchesDirection(hit.direction, filters.direction) &&
        matchesSymbol(String(hit.symbol ?? ''), filters.symbols) &&
        (filters.maxSignalAge === undefined || Number(hit.bars_ago ?? 0) <= filters.maxSignalAge),
    )
    .map((hit) => {
      const symbol = String(hit.symbol ?? '');
      const asOf = hit.as_of ?? result.as_of;
      const invalidation = (hit.invalidation ?? {}) as IDataObject;
      const signals = Array.isArray(hit.signals) ? (hit.signals as IDataObject[]) : [];
      const summary =
        `${symbol} ${timeframe}: ${String(hit.direction)} ${SCAN_TYPE_LABELS[String(hit.scan_type)] ?? String(hit.scan_type)}, ` +
        `strength ${formatNumber(hit.strength)}` +
        (signals.length > 0 ? ` (${signals.map((s) => String(s.name)).join(', ')})` : '') +
        `. Last close ${formatNumber(hit.last_close)}, invalid on a close ` +
        `${hit.direction === 'bearish' ? 'above' : 'below'} ${formatNumber(invalidation.price)}.`;
      return {
        source: 'market_scanner',
        setup_key: ['scan', exchange, timeframe, symbol, hit.scan_type, hit.direction, hit.signal_at].join(
          '|',
        ),
        symbol,
        timeframe,
        exchange,
        data_source: result.data_source,
        as_of: asOf,
        data_age_ms: ageAt(asOf, result),
        summary,
        ...hit,
        disclaimer: result.disclaimer,
      };
    });
}

/** Detect Opportunities ideas as setups; an idea is identified by its newest scanner signal. */
function ideaSetups(result: IDataObject, filters: Filters): IDataObject[] {
  const ideas = Array.isArray(result.ideas) ? (result.ideas as IDataObject[]) : [];
  const timeframe = String(result.timeframe ?? '');
  return ideas
    .filter(
      (idea) =>
        Number(idea.confidence ?? 0) >= filters.minConfidence &&
        matchesDirection(idea.direction, filters.direction) &&
        matchesSymbol(String(idea.symbol ?? ''), filters.symbols),
    )
    .map((idea) => {
      const symbol = String(idea.symbol ?? '');
      const signals = Array.isArray(idea.scan_signals) ? (idea.scan_signals as IDataObject[]) : [];
      const signalTimes = signals.map((s) => String(s.signal_at ?? '')).filter((t) => t !== '');
      const signalAt = signalTimes.sort()[signalTimes.length - 1] ?? String(idea.as_of ?? '');
      const exchange = String(idea.exchange ?? result.exchange ?? '');
      const targets = Array.isArray(idea.targets) ? (idea.targets as IDataObject[]) : [];
      const summary =
        `${String(idea.action)} ${symbol} ${timeframe}, confidence ${formatNumber(idea.confidence)}: ` +
        `entry ${formatNumber(idea.entry)}, stop ${formatNumber(idea.stop_loss)}` +
        (targets.length > 0 ? `, targets ${targets.map((t) => formatNumber(t.price)).join(' / ')}` : '') +
        `, risk/reward ${typeof idea.risk_reward === 'number' ? idea.risk_reward.toFixed(2) : '?'}.`;
      return {
        source: 'detect_opportunities',
        setup_key: ['idea', exchange, timeframe, symbol, idea.direction, signalAt].join('|'),
        symbol,
        timeframe,
        exchange,
        data_source: idea.data_source ?? result.data_source,
        as_of: idea.as_of ?? result.as_of,
        data_age_ms: idea.data_age_ms ?? result.data_age_ms,
        summary,
        ...idea,
        disclaimer: result.disclaimer,
      };
    });
}

export class CryptoScanTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Crypto Scan Trigger',
    name: 'cryptoScanTrigger',
    icon: { light: 'file:cryptoScanTrigger.svg', dark: 'file:cryptoScanTrigger.dark.svg' },
    group: ['trigger'],
    version: 1,
    subtitle:
      '={{$parameter["source"] === "opportunities" ? "Trade ideas" : "Market scan: " + $parameter["scanType"]}}',
    description:
      'Starts the workflow when the Crypto MCP server finds a new market setup or trade idea, once per setup',
    defaults: {
      name: 'Crypto Scan Trigger',
    },
    polling: true,
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [
      {
        name: 'cryptoMcpApi',
        required: true,
      },
    ],
    properties: [
      {
        displayName: 'Source',
        name: 'source',
        type: 'options',
        options: [
          {
            name: 'Market Scan',
            value: 'scan',
            description:
              'Hits of the market scanner: breakouts, reversals, institutional footprints and volume surges, each with a 0-100 strength and an invalidation price',
          },
          {
            name: 'Trade Ideas',
            value: 'opportunities',
            description:
              'BUY/SELL ideas of Detect Opportunities, each with a 0-100 confidence, entry, stop, targets and reasons (slower: every candidate is fully analysed)',
          },
        ],
        default: 'scan',
        description: 'What to watch',
      },
      {
        displayName: 'Scan Type',
        name: 'scanType',
        type: 'options',
        options: scanTypeOptions,
        default: 'all',
        description: 'Which setups the scanner looks for',
        displayOptions: { show: { source: ['scan'] } },
      },
      {
        displayName: 'Timeframe',
        name: 'timeframe',
        type: 'options',
        options: timeframeOptions,
        default: '1h',
        description:
          'Candle timeframe; setups change only when a candle closes, so poll about once per candle',
      },
      {
        displayName: 'Minimum Confidence',
        name: 'minConfidence',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 100 },
        default: 60,
        description:
          'Only setups scoring at least this (0-100): the strength of a scan hit, the confidence of a trade idea',
      },
      {
        displayName: 'Direction',
        name: 'direction',
        type: 'options',
        options: [
          { name: 'Any', value: 'any' },
          { name: 'Bullish (Long)', value: 'bullish' },
          { name: 'Bearish (Short)', value: 'bearish' },
        ],
        default: 'any',
        description: 'Only setups in this direction',
      },
      {
        displayName: 'Symbols',
        name: 'symbols',
        type: 'string',
        default: '',
        placeholder: 'e.g. BTCUSDT, ETH/USDT, SOL',
        description:
          'Only these markets (comma-separated); empty watches the whole market. A market scan scans just the markets listed; a base such as SOL matches every SOL market the scan covers.',
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        options: [
          {
            displayName: 'Exchange',
            name: 'exchange',
            type: 'string',
            default: '',
            placeholder: 'e.g. binance',
            description: "Lowercase ccxt exchange ID; empty uses the server's default",
          },
          {
            displayName: 'Include Stablecoins',
            name: 'includeStablecoins',
            type: 'boolean',
            default: false,
            description:
              'Whether the market scan also covers stablecoin and fiat markets (USDC, FDUSD, DAI, EUR, ...)',
            displayOptions: { show: { '/source': ['scan'] } },
          },
          {
            displayName: 'Market Cap Range',
            name: 'marketCapRange',
            type: 'options',
            options: [
              { name: 'All', value: 'all' },
              { name: 'Large (24h Volume ≥ $100M)', value: 'large' },
              { name: 'Mid (24h Volume $10M-$100M)', value: 'mid' },
              { name: 'Small (24h Volume < $10M)', value: 'small' },
            ],
            default: 'all',
            description: 'Liquidity tier of the trade ideas by 24h quote volume',
            displayOptions: { show: { '/source': ['opportunities'] } },
          },
          {
            displayName: 'Max Results',
            name: 'maxResults',
            type: 'number',
            typeOptions: { minValue: 1, maxValue: 100 },
            default: 20,
            description: 'Setups the server returns per poll at most, best first (trade ideas: at most 20)',
          },
          {
            displayName: 'Max Signal Age (Candles)',
            name: 'maxSignalAge',
            type: 'number',
            typeOptions: { minValue: 0 },
            default: 3,
            description:
              'Skip scan hits whose signal candle is more than this many candles old (0: only the last closed candle)',
            displayOptions: { show: { '/source': ['scan'] } },
          },
          {
            displayName: 'Min 24h Volume (USD)',
            name: 'minVolumeUsd',
            type: 'number',
            typeOptions: { minValue: 0 },
            default: 1000000,
            description: 'Skip markets whose 24h quote volume in USD is below this',
          },
          {
            displayName: 'Quote Currency',
            name: 'quote',
            type: 'string',
            default: 'USDT',
            description: 'Quote currency of the markets to watch, e.g. USDT, USDC, BTC or EUR',
          },
        ],
      },
    ],
  };

  async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
    const source = this.getNodeParameter('source', 'scan') as string;
    const timeframe = this.getNodeParameter('timeframe', '1h') as string;
    const options = this.getNodeParameter('options', {}) as IDataObject;
    const filters: Filters = {
      minConfidence: Number(this.getNodeParameter('minConfidence', 0)),
      direction: this.getNodeParameter('direction', 'any') as Direction,
      symbols: parseList(this.getNodeParameter('symbols', '')),
      maxSignalAge: typeof options.maxSignalAge === 'number' ? options.maxSignalAge : undefined,
    };
    const maxResults = typeof options.maxResults === 'number' ? options.maxResults : undefined;

    let setups: IDataObject[];
    if (source === 'opportunities') {
      const result = await callCryptoMcpTool.call(
        this,
        'detect_opportunities',
        compact({
          confidence_threshold: filters.minConfidence,
          timeframe,
          max_results: maxResults === undefined ? undefined : Math.min(maxResults, 20),
          market_cap_range: options.marketCapRange,
          min_volume_usd: options.minVolumeUsd,
          quote: options.quote,
          exchange: options.exchange,
        }),
      );
      setups = ideaSetups(result, filters);
    } else if (source === 'scan') {
      // A list of markets is scanned as given; the server refuses a bare base such as SOL there, so a
      // list with one scans the whole market and the Symbols filter picks the hits (from all of them,
      // unless Max Results says otherwise).
      const markets = filters.symbols?.every(isMarketSymbol) ? filters.symbols : undefined;
      const result = await callCryptoMcpTool.call(
        this,
        'market_scanner',
        compact({
          scan_type: this.getNodeParameter('scanType', 'all') as string,
          timeframe,
          max_results: maxResults ?? (filters.symbols && !markets ? 100 : undefined),
          min_volume_usd: options.minVolumeUsd,
          quote: options.quote,
          exchange: options.exchange,
          symbols: markets,
          include_stablecoins: options.includeStablecoins,
        }),
      );
      setups = scanSetups(result, filters);
    } else {
      throw new NodeOperationError(this.getNode(), `Unknown source "${source}"`);
    }

    // The editor's "Fetch Test Event": show what matches now, seen or not, and remember nothing.
    if (this.getMode() === 'manual') {
      if (setups.length === 0) {
        throw new NodeOperationError(this.getNode(), 'No setup matches the current filters right now', {
          description:
            'Lower Minimum Confidence, widen Direction, Symbols or Max Signal Age, or try another timeframe or scan type.',
        });
      }
      return [this.helpers.returnJsonArray(setups)];
    }

    const state = this.getWorkflowStaticData('node');
    const seen = Array.isArray(state.seenSetups)
      ? (state.seenSetups as unknown[]).filter((key): key is string => typeof key === 'string')
      : [];
    const seenKeys = new Set(seen);
    const fresh: IDataObject[] = [];
    const current = new Set<string>();
    for (const setup of setups) {
      const key = String(setup.setup_key);
      if (!seenKeys.has(key) && !current.has(key)) fresh.push(setup);
      current.add(key);
    }
    // Setups still present move to the newest end, so a long-lived setup is never forgotten and re-sent
    // while older, vanished ones age out first.
    state.seenSetups = [...seen.filter((key) => !current.has(key)), ...current].slice(-MAX_SEEN_SETUPS);

    return fresh.length > 0 ? [this.helpers.returnJsonArray(fresh)] : null;
  }
}
