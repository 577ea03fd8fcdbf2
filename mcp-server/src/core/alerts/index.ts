/**
 * Alerts: conditions as data (JSON or the expression language), evaluated on candle closes
 * (`CandleAlertIndex`) and on ticks (`PriceAlertIndex`), and the message they send. See `types.ts`.
 */
export type {
  AlertChannel,
  AlertCondition,
  AlertDefinition,
  AlertFiring,
  AlertOperand,
  TimedSeries,
} from './types.js';
export {
  AlertExpressionError,
  MAX_EXPRESSION_LENGTH,
  formatCondition,
  formatSeries,
  parseAlertExpression,
  type ParseOptions,
} from './expression.js';
export { MAX_MOVE_PCT, alertConditionIssues, alertConditionSchema } from './schema.js';
export { CandleAlertIndex, MAX_REQUIRED_CANDLES, type CandleAlert, type SeriesComputer } from './evaluate.js';
export { PriceAlertIndex } from './price-index.js';
export {
  DEFAULT_TEMPLATE,
  MAX_MESSAGE_LENGTH,
  formatNumber,
  formatTime,
  renderMessage,
  type MessageContext,
} from './message.js';
