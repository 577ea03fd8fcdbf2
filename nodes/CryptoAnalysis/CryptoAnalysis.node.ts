import type {
  IDataObject,
  IExecuteFunctions,
  INodeExecutionData,
  INodeType,
  INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { callCryptoMcpTool } from '../shared/transport';
import { alertFields, alertOperations } from './descriptions/AlertDescription';
import { backtestFields, backtestOperations } from './descriptions/BacktestDescription';
import { marketFields, marketOperations } from './descriptions/MarketDescription';
import { portfolioFields, portfolioOperations } from './descriptions/PortfolioDescription';
import { riskFields, riskOperations } from './descriptions/RiskDescription';
import { buildToolCall } from './toolCalls';

export class CryptoAnalysis implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Crypto Analysis',
    name: 'cryptoAnalysis',
    icon: { light: 'file:cryptoAnalysis.svg', dark: 'file:cryptoAnalysis.dark.svg' },
    group: ['transform'],
    version: 1,
    subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
    description:
      'Crypto market intelligence from your Crypto MCP server: technical and smart-money analysis with BUY/SELL/HOLD, market scans, trade ideas, portfolio risk, position sizing, WhatsApp/webhook alerts and strategy backtests. Not financial advice.',
    defaults: {
      name: 'Crypto Analysis',
    },
    usableAsTool: true,
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [
      {
        name: 'cryptoMcpApi',
        required: true,
      },
    ],
    properties: [
      {
        displayName: 'Resource',
        name: 'resource',
        type: 'options',
        noDataExpression: true,
        options: [
          {
            name: 'Alert',
            value: 'alert',
            description: 'Alerts that message WhatsApp or a webhook when a market condition holds',
          },
          {
            name: 'Backtest',
            value: 'backtest',
            description: 'Test a trading strategy on historical candles',
          },
          {
            name: 'Market',
            value: 'market',
            description: 'Analyse one market, scan the market for setups, or find trade ideas',
          },
          {
            name: 'Portfolio',
            value: 'portfolio',
            description: 'Value, P&L and risk figures of your holdings',
          },
          {
            name: 'Risk',
            value: 'risk',
            description: 'Position size and risk of a single trade',
          },
        ],
        default: 'market',
      },
      ...marketOperations,
      ...marketFields,
      ...portfolioOperations,
      ...portfolioFields,
      ...riskOperations,
      ...riskFields,
      ...alertOperations,
      ...alertFields,
      ...backtestOperations,
      ...backtestFields,
    ],
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const returnData: INodeExecutionData[] = [];

    for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
      try {
        const resource = this.getNodeParameter('resource', itemIndex) as string;
        const operation = this.getNodeParameter('operation', itemIndex) as string;
        const { tool, args } = buildToolCall.call(this, resource, operation, itemIndex);
        const result = await callCryptoMcpTool.call(this, tool, args, itemIndex);
        returnData.push({ json: result, pairedItem: { item: itemIndex } });
      } catch (caught) {
        const error =
          caught instanceof NodeApiError || caught instanceof NodeOperationError
            ? caught
            : new NodeOperationError(this.getNode(), caught as Error, { itemIndex });
        error.context.itemIndex ??= itemIndex;
        if (this.continueOnFail()) {
          const json: IDataObject = { error: error.message };
          if (typeof error.context.errorCode === 'string') json.code = error.context.errorCode;
          if (error instanceof NodeApiError && error.httpCode) json.httpCode = error.httpCode;
          if (error.description) json.description = error.description;
          returnData.push({ json, pairedItem: { item: itemIndex } });
          continue;
        }
        throw error;
      }
    }

    return [returnData];
  }
}
