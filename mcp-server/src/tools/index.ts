/** The tools this server offers. A tool is listed here only once it works end to end. */
import { alertManagerTool } from './alert-manager.js';
import { analyzeCryptoTool } from './analyze-crypto.js';
import { detectOpportunitiesTool } from './detect-opportunities.js';
import { historicalBacktestTool } from './historical-backtest.js';
import { marketScannerTool } from './market-scanner.js';
import { monitorPortfolioTool } from './monitor-portfolio.js';
import { riskAssessmentTool } from './risk-assessment.js';
import type { ToolDefinition } from './tool.js';
import { withCachedJsonSchema } from './json-schema-cache.js';

const definitions: ToolDefinition[] = [
  analyzeCryptoTool as unknown as ToolDefinition,
  marketScannerTool as unknown as ToolDefinition,
  detectOpportunitiesTool as unknown as ToolDefinition,
  monitorPortfolioTool as unknown as ToolDefinition,
  riskAssessmentTool as unknown as ToolDefinition,
  alertManagerTool as unknown as ToolDefinition,
  historicalBacktestTool as unknown as ToolDefinition,
];

export const tools: ToolDefinition[] = definitions.map((tool) => {
  withCachedJsonSchema(tool.input);
  withCachedJsonSchema(tool.output);
  return tool;
});
export {
  alertManagerTool,
  analyzeCryptoTool,
  detectOpportunitiesTool,
  historicalBacktestTool,
  marketScannerTool,
  monitorPortfolioTool,
  riskAssessmentTool,
};
