/**
 * From the node's parameters to one MCP tool call: the tool and its arguments, named as the server's
 * zod schemas name them. Unset optional values are left out so the server's defaults apply.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { CryptoMcpTool } from '../shared/transport';
import { compact, parseJson, parseList } from '../shared/fields';
import { toWhatsAppAddress } from '../WhatsAppAlert/twilio';

export interface ToolCall {
  tool: CryptoMcpTool;
  args: IDataObject;
}

type Builder = (this: IExecuteFunctions, itemIndex: number) => ToolCall;

const str = (ctx: IExecuteFunctions, name: string, i: number): string =>
  String(ctx.getNodeParameter(name, i, '') ?? '').trim();

const opts = (ctx: IExecuteFunctions, name: string, i: number): IDataObject =>
  (ctx.getNodeParameter(name, i, {}) ?? {}) as IDataObject;

/**
 * A WhatsApp number as the server takes it (E.164, +4915112345678) from the ways people write one:
 * with spaces, dashes, dots or brackets, or with the "whatsapp:" prefix. Anything else goes as given,
 * for the server to explain.
 */
function phoneNumber(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return toWhatsAppAddress(value)?.slice('whatsapp:'.length) ?? value.trim();
}

/** A positive price or amount, or undefined when 0/unset (the schemas require > 0 where given). */
const positive = (value: unknown): number | undefined =>
  typeof value === 'number' && value > 0 ? value : undefined;

function quietHours(value: unknown): IDataObject | undefined {
  const hours = (value as IDataObject | undefined)?.hours as IDataObject | undefined;
  if (!hours) return undefined;
  return compact({ start: hours.start, end: hours.end, time_zone: hours.timeZone });
}

/** A condition is expression text, or a JSON object (typed as text starting with "{", or from an expression). */
function condition(this: IExecuteFunctions, value: unknown, i: number): string | IDataObject | undefined {
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    return parseJson(this.getNode(), value, 'Condition', i) as IDataObject;
  }
  if (typeof value === 'object' && value !== null) return value as IDataObject;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const builders: Record<string, Builder> = {
  'market.analyze'(i) {
    const o = opts(this, 'options', i);
    return {
      tool: 'analyze_crypto',
      args: compact({
        symbol: str(this, 'symbol', i),
        timeframe: str(this, 'timeframe', i),
        comparison_symbol: o.comparisonSymbol,
        exchange: o.exchange,
        limit: o.candles,
        higher_timeframe: o.higherTimeframe,
        save_analysis: o.saveAnalysis,
      }),
    };
  },

  'market.scan'(i) {
    const o = opts(this, 'options', i);
    return {
      tool: 'market_scanner',
      args: compact({
        scan_type: str(this, 'scanType', i),
        timeframe: str(this, 'timeframe', i),
        min_volume_usd: o.minVolumeUsd,
        max_results: o.maxResults,
        quote: o.quote,
        exchange: o.exchange,
        symbols: parseList(o.symbols),
        include_stablecoins: o.includeStablecoins,
      }),
    };
  },

  'market.detectOpportunities'(i) {
    const o = opts(this, 'options', i);
    return {
      tool: 'detect_opportunities',
      args: compact({
        confidence_threshold: this.getNodeParameter('confidenceThreshold', i) as number,
        timeframe: str(this, 'timeframe', i),
        max_results: o.maxResults,
        market_cap_range: o.marketCapRange,
        min_volume_usd: o.minVolumeUsd,
        quote: o.quote,
        exchange: o.exchange,
      }),
    };
  },

  'portfolio.monitor'(i) {
    const o = opts(this, 'options', i);
    const input = str(this, 'positionsInput', i);
    let positions: IDataObject[] | undefined;
    if (input === 'fields') {
      const rows = ((opts(this, 'positions', i).position as IDataObject[] | undefined) ?? []).map((row) =>
        compact({
          symbol: row.symbol,
          quantity: row.quantity,
          entry_price: positive(row.entryPrice),
          entry_time: row.entryTime,
          fees: positive(row.fees),
        }),
      );
      positions = rows.length > 0 ? rows : undefined;
    } else if (input === 'json') {
      positions = parseJson(
        this.getNode(),
        this.getNodeParameter('positionsJson', i),
        'Positions (JSON)',
        i,
        'array',
      ) as IDataObject[] | undefined;
    }
    const portfolioId = str(this, 'portfolioId', i);
    const symbols = parseList(o.symbols);
    if (positions === undefined && portfolioId === '' && symbols === undefined) {
      throw new NodeOperationError(
        this.getNode(),
        'Give positions, a stored Portfolio ID, or Symbols (in Options) to analyse as a basket',
        { itemIndex: i },
      );
    }
    return {
      tool: 'monitor_portfolio',
      args: compact({
        portfolio_id: portfolioId,
        positions,
        update_mode: o.updateMode,
        cash: o.cash,
        symbols,
        risk_level: str(this, 'riskLevel', i),
        interval: o.interval,
        lookback_days: o.lookbackDays,
        benchmark: o.benchmark,
        risk_free_rate: o.riskFreeRate,
        exchange: o.exchange,
      }),
    };
  },

  'risk.assess'(i) {
    const o = opts(this, 'options', i);
    return {
      tool: 'risk_assessment',
      args: compact({
        symbol: str(this, 'symbol', i),
        portfolio_value: this.getNodeParameter('portfolioValue', i) as number,
        risk_percentage: this.getNodeParameter('riskPercentage', i) as number,
        entry_price: this.getNodeParameter('entryPrice', i) as number,
        stop_loss: this.getNodeParameter('stopLoss', i) as number,
        take_profit: positive(o.takeProfit),
        side: o.side,
        fee_rate: o.feeRate,
        timeframe: o.timeframe,
        atr_stop_multiple: o.atrStopMultiple,
        win_rate: o.winRate,
        payoff_ratio: o.payoffRatio,
        exchange: o.exchange,
      }),
    };
  },

  'alert.create'(i) {
    const o = opts(this, 'options', i);
    const channel = str(this, 'channel', i);
    return {
      tool: 'alert_manager',
      args: compact({
        action: 'create',
        symbol: str(this, 'symbol', i),
        condition: condition.call(this, this.getNodeParameter('condition', i), i),
        phone_number: channel === 'whatsapp' ? phoneNumber(str(this, 'phoneNumber', i)) : undefined,
        webhook_url: channel === 'webhook' ? str(this, 'webhookUrl', i) : undefined,
        alert_type: o.alertType,
        exchange: o.exchange,
        timeframe: o.timeframe,
        message_template: o.messageTemplate,
        repeat: o.repeat,
        cooldown_minutes: o.cooldownMinutes,
        expires_at: o.expiresAt,
        quiet_hours: quietHours(o.quietHours),
      }),
    };
  },

  'alert.update'(i) {
    const u = opts(this, 'updateFields', i);
    return {
      tool: 'alert_manager',
      args: compact({
        action: 'update',
        alert_id: str(this, 'alertId', i),
        symbol: u.symbol,
        condition: condition.call(this, u.condition, i),
        phone_number: phoneNumber(u.phoneNumber),
        webhook_url: u.webhookUrl,
        exchange: u.exchange,
        timeframe: u.timeframe,
        message_template: u.messageTemplate,
        repeat: u.repeat,
        cooldown_minutes: u.cooldownMinutes,
        expires_at: u.expiresAt,
        quiet_hours: quietHours(u.quietHours),
      }),
    };
  },

  'alert.getAll'() {
    return { tool: 'alert_manager', args: { action: 'list' } };
  },

  'alert.delete'(i) {
    return { tool: 'alert_manager', args: { action: 'delete', alert_id: str(this, 'alertId', i) } };
  },

  'alert.pause'(i) {
    return { tool: 'alert_manager', args: { action: 'pause', alert_id: str(this, 'alertId', i) } };
  },

  'alert.resume'(i) {
    return { tool: 'alert_manager', args: { action: 'resume', alert_id: str(this, 'alertId', i) } };
  },

  'alert.getHistory'(i) {
    return {
      tool: 'alert_manager',
      args: {
        action: 'history',
        alert_id: str(this, 'alertId', i),
        limit: this.getNodeParameter('limit', i, 50) as number,
      },
    };
  },

  'backtest.run'(i) {
    const o = opts(this, 'options', i);
    const strategy = str(this, 'strategy', i);
    const mode = str(this, 'mode', i);
    const node = this.getNode();
    return {
      tool: 'historical_backtest',
      args: compact({
        symbol: str(this, 'symbol', i),
        strategy,
        timeframe: str(this, 'timeframe', i),
        mode,
        spec:
          strategy === 'rules' ? parseJson(node, this.getNodeParameter('spec', i), 'Rules', i) : undefined,
        param_grid:
          mode === 'grid' || mode === 'walk_forward'
            ? parseJson(node, this.getNodeParameter('paramGrid', i, ''), 'Parameter Grid', i)
            : undefined,
        params: parseJson(node, o.params, 'Strategy Parameters', i),
        start: o.start,
        end: o.end,
        exchange: o.exchange,
        initial_capital: o.initialCapital,
        fee_rate: o.feeRate,
        slippage: o.slippage,
        sizing: o.sizing,
        position_fraction: o.positionFraction,
        risk_per_trade_pct: o.riskPerTradePct,
        allow_short: o.allowShort,
        stop_loss_pct: positive(o.stopLossPct),
        take_profit_pct: positive(o.takeProfitPct),
        train_fraction: o.trainFraction,
        windows: o.windows,
        anchored: o.anchored,
        rank_by: o.rankBy,
        charts: o.charts,
      }),
    };
  },

  'backtest.get'(i) {
    return { tool: 'historical_backtest', args: { run_id: str(this, 'runId', i) } };
  },

  'backtest.compare'(i) {
    return {
      tool: 'historical_backtest',
      args: compact({ compare_run_ids: parseList(this.getNodeParameter('runIds', i)) }),
    };
  },
};

/** The tool call for `resource.operation` on item `itemIndex`. */
export function buildToolCall(
  this: IExecuteFunctions,
  resource: string,
  operation: string,
  itemIndex: number,
): ToolCall {
  const builder = builders[`${resource}.${operation}`];
  if (!builder) {
    throw new NodeOperationError(
      this.getNode(),
      `The operation "${operation}" of "${resource}" is not supported`,
      {
        itemIndex,
      },
    );
  }
  return builder.call(this, itemIndex);
}
