/** Builds the process-wide AppContext from validated configuration. */
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { MarketData } from '../market/index.js';
import { AnalysisService } from './analysis.js';
import type { AppContext } from './context.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function createAppContext(config: Config): AppContext {
  const market = new MarketData({
    mode: config.DATA_SOURCE,
    exchange: config.EXCHANGE,
    exchangeOptions: {
      timeoutMs: config.EXCHANGE_TIMEOUT_MS,
      ...(config.EXCHANGE_API_URL ? { baseUrl: config.EXCHANGE_API_URL } : {}),
    },
    ...(config.SNAPSHOT_DIR ? { snapshotDir: config.SNAPSHOT_DIR } : {}),
  });
  return { config, market, analysis: new AnalysisService(market), version: VERSION };
}
