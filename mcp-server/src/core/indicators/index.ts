/**
 * Technical indicators over columnar series: pure, single pass, allocating per call and never per bar.
 *
 * Every output is a new Float64Array as long as the input, so `output[i]` belongs to input bar `i`; the
 * warm-up bars where TA-Lib produces no value are NaN (the `*Lookback` helpers say how many). Each
 * indicator repeats TA-Lib 0.4's arithmetic step for step (bit-identical results on the test data),
 * except Bollinger's deviation (see `bollinger`). A period that is not an integer >= 1 throws a
 * `RangeError`. Inputs are expected to be finite.
 */
export { sma, smaLookback } from './sma.js';
export { ema, emaLookback } from './ema.js';
export { rsi, rsiLookback } from './rsi.js';
export { macd, macdLookback, type MacdResult } from './macd.js';
export { bollinger, bollingerLookback, type BollingerResult } from './bollinger.js';
export { atr, atrLookback } from './atr.js';
export { adx, adxLookback, directionalIndicatorLookback, type AdxResult } from './adx.js';
export { stochastic, stochasticLookback, type StochasticResult } from './stochastic.js';
export { obv, OBV_LOOKBACK } from './obv.js';
export { vwap, type VwapOptions } from './vwap.js';
