/** The analysis report produced by `buildReport`: plain numbers and ISO times, ready to serialise. */
export type Direction = 'bullish' | 'bearish';
export type Trend = Direction | 'neutral';

export interface ZoneReport {
  type: Direction;
  top: number;
  bottom: number;
  formed_at: string;
  confirmed_at: string;
  state: string;
  distance_pct: number;
}
export interface OrderBlockReport extends ZoneReport {
  strength: number;
  volume: number;
}
export interface FairValueGapReport extends ZoneReport {
  filled_pct: number;
}
export interface StructureEventReport {
  type: 'BOS' | 'CHoCH';
  direction: Direction;
  level: number;
  swing_at: string;
  broken_at: string;
}
export interface LiquidityReport {
  type: 'buy-side' | 'sell-side';
  level: number;
  touches: number;
  confirmed_at: string;
  swept_at: string | null;
}
export interface LevelReport {
  price: number;
  kind: string;
  at: string | null;
  distance_pct: number;
}
export interface Reason {
  factor: string;
  score: number;
  detail: string;
}
export interface Recommendation {
  action: 'BUY' | 'SELL' | 'HOLD';
  confidence: number;
  score: number;
  entry: number | null;
  stop_loss: number | null;
  stop_basis: 'structure' | 'atr' | null;
  /** The level the stop sits beyond, when it is structural. */
  stop_reference: { price: number; kind: string } | null;
  targets: { price: number; basis: string }[];
  risk_reward: number | null;
  reasons: Reason[];
}

export interface MarketReport {
  price: { last_close: number; change_pct: number; high: number; low: number };
  trend: {
    direction: Trend;
    structure: string;
    ema_alignment: Direction | 'mixed';
    adx: number | null;
    plus_di: number | null;
    minus_di: number | null;
    strength: 'none' | 'weak' | 'trending' | 'strong';
  };
  volatility: {
    atr: number;
    atr_pct: number;
    regime: 'low' | 'normal' | 'high';
    atr_percentile: number;
    bollinger: { upper: number; middle: number; lower: number; bandwidth_pct: number; percent_b: number };
  };
  indicators: {
    rsi: number;
    macd: { macd: number; signal: number; histogram: number };
    stochastic: { k: number; d: number };
    ema: { ema20: number; ema50: number; ema200: number | null };
    sma: { sma20: number; sma50: number; sma200: number | null };
    obv_slope: 'rising' | 'falling' | 'flat';
    vwap: { session: number | null; anchored: number | null; anchored_at: string | null };
    rsi_divergence: Direction | 'none';
  };
  smc: {
    swing_length: number;
    last_swing_high: { price: number; at: string } | null;
    last_swing_low: { price: number; at: string } | null;
    break_of_structure: StructureEventReport | null;
    change_of_character: StructureEventReport | null;
    recent_structure: StructureEventReport[];
    order_blocks: OrderBlockReport[];
    fair_value_gaps: FairValueGapReport[];
    liquidity_zones: LiquidityReport[];
  };
  key_levels: { support: LevelReport[]; resistance: LevelReport[] };
  confluence: {
    timeframe: string;
    trend: Trend;
    last_structure: StructureEventReport | null;
    agrees: boolean | null;
  } | null;
  comparison: {
    symbol: string;
    correlation: number | null;
    beta: number | null;
    relative_strength_pct: number;
    common_candles: number;
    /** ISO open time of the first candle both series have. */
    window_start: string;
    /** ISO close time of the last candle both series have. */
    as_of: string;
  } | null;
  recommendation: Recommendation;
}
