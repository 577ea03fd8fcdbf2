/**
 * Everything a tool handler may use, built once per process and shared by every transport. Tools get
 * services, never raw clients, so each layer only sees the one below it.
 */
import type { Config } from '../config.js';
import type { MarketData } from '../market/index.js';
import type { AnalysisService } from './analysis.js';

export interface AppContext {
  config: Config;
  market: MarketData;
  analysis: AnalysisService;
  version: string;
}
