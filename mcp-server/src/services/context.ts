/**
 * Everything a tool handler may use, built once per process and shared by every transport. Tools get
 * services, never raw clients, so each layer only sees the one below it.
 */
import type { Config } from '../config.js';
import type { MarketData } from '../market/index.js';
import type { Stores } from '../store/index.js';
import type { AnalysisService } from './analysis.js';
import type { AlertService } from './alerts/alert-service.js';
import type { Delivery } from './alerts/delivery.js';
import type { AlertEngine } from './alerts/engine.js';
import type { AuditRecorder } from './audit.js';
import type { BacktestService } from './backtest.js';
import type { OpportunitiesService } from './opportunities.js';
import type { ScannerService } from './scanner.js';
import type { PortfolioService } from './portfolio.js';
import type { RiskService } from './risk.js';
import type { ToolJobClient } from './tool-jobs/client.js';

export interface AppContext {
  config: Config;
  market: MarketData;
  stores: Stores;
  analysis: AnalysisService;
  portfolio: PortfolioService;
  risk: RiskService;
  audit: AuditRecorder;
  alerts: AlertService;
  /** Alert message delivery; the HTTP server and `crypto-mcp worker` start it. */
  delivery: Delivery;
  /** Evaluates active alerts on new candles and ticks; the HTTP server and the worker start it. */
  alertEngine: AlertEngine;
  backtest: BacktestService;
  scanner: ScannerService;
  opportunities: OpportunitiesService;
  /** Hands heavy HTTP calls to `crypto-mcp worker` (HTTP_RUNS_JOBS=false); null: they run here. */
  jobs: ToolJobClient | null;
  version: string;
  /** Releases connections (database, Redis, MongoDB) for a clean exit. */
  close(): Promise<void>;
}
