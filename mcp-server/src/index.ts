/**
 * Public library API of crypto-mcp-server: the pure analysis core over columnar candles, i.e. the
 * technical indicators (TA-Lib conventions), the smart-money concepts (causal, after the
 * smartmoneyconcepts library) and the full analysis report, plus the types needed to call them.
 * Nothing here does I/O.
 */
export * from './core/candles.js';
export * from './core/indicators/index.js';
export * from './core/smc/index.js';
export * from './core/report/index.js';
export { AppError, isAppError, type ErrorCode } from './errors.js';
