export { buildReport, MIN_HIGHER_CANDLES, MIN_REPORT_CANDLES, type ReportOptions } from './report.js';
export { compareSeries, type Comparison } from './comparison.js';
export { ACTION_THRESHOLD } from './recommendation.js';
export type * from './types.js';
