/** Builds the process-wide AppContext from validated configuration. */
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { MarketData } from '../market/index.js';
import { countedCache } from '../market/cache.js';
import { openStores } from '../store/index.js';
import { AnalysisService } from './analysis.js';
import { AlertService } from './alerts/alert-service.js';
import { createDelivery } from './alerts/delivery.js';
import { AlertEngine } from './alerts/engine.js';
import { PortfolioAlertEvaluator } from './alerts/portfolio-alerts.js';
import { WebSocketFeed } from './alerts/ws-feed.js';
import { AuditRecorder } from './audit.js';
import { BacktestService } from './backtest.js';
import { OpportunitiesService } from './opportunities.js';
import { ScannerService } from './scanner.js';
import type { AppContext } from './context.js';
import { PortfolioService } from './portfolio.js';
import { RiskService } from './risk.js';
import { bullConnection, bullPrefix } from './queues.js';
import { ToolJobClient } from './tool-jobs/client.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export async function createAppContext(config: Config): Promise<AppContext> {
  const stores = await openStores(config);
  const market = new MarketData({
    mode: config.DATA_SOURCE,
    exchange: config.EXCHANGE,
    exchangeOptions: {
      timeoutMs: config.EXCHANGE_TIMEOUT_MS,
      ...(config.EXCHANGE_API_URL ? { baseUrl: config.EXCHANGE_API_URL } : {}),
    },
    ...(config.SNAPSHOT_DIR ? { snapshotDir: config.SNAPSHOT_DIR } : {}),
    cache: countedCache(stores.cache, () => 'market'),
  });
  // One cache holds both; the metrics tell reports apart from the markers of archive writes already done.
  const reportCache = countedCache(stores.cache, (key) =>
    key.startsWith('archived|') ? 'archive_dedup' : 'report',
  );
  const analysis = new AnalysisService(market, { cache: reportCache, archive: stores.archive });
  const scanner = new ScannerService(market);
  const audit = new AuditRecorder(stores.audit);
  const delivery = createDelivery(config, stores.database, stores.redis);
  const alerts = new AlertService(market, stores.alerts, {
    whatsapp: delivery.whatsapp,
    webhook: delivery.webhook,
  });
  const portfolio = new PortfolioService(market, stores.portfolios);
  const alertEngine = new AlertEngine({
    market,
    store: stores.alerts,
    portfolio: new PortfolioAlertEvaluator(portfolio),
    // Live data streams through ccxt's watchers (polling where an exchange has none); the offline
    // snapshot never changes, so polling it is all there is to do.
    ...(config.ALERT_FEED === 'websocket' &&
      config.DATA_SOURCE !== 'offline' && {
        feed: new WebSocketFeed({
          market,
          exchangeId: market.defaultExchange,
          ...(config.EXCHANGE_WS_URL && { wsUrl: config.EXCHANGE_WS_URL }),
          ...(config.EXCHANGE_API_URL && { restBaseUrl: config.EXCHANGE_API_URL }),
        }),
      }),
  });
  alerts.attachEngine(alertEngine);
  const backtest = new BacktestService(market, stores.backtests);
  // Connects when `crypto-mcp http` starts it (or on the first call handed over), so other commands
  // sharing the replicas' settings open nothing.
  const jobs =
    !config.HTTP_RUNS_JOBS && config.REDIS_URL && stores.redis
      ? new ToolJobClient({
          redis: stores.redis,
          connection: bullConnection(config.REDIS_URL),
          prefix: bullPrefix(config.REDIS_KEY_PREFIX),
          keyPrefix: config.REDIS_KEY_PREFIX,
          timeoutMs: config.JOB_TIMEOUT_MS,
          version: VERSION,
        })
      : null;
  return {
    config,
    market,
    stores,
    analysis,
    portfolio,
    risk: new RiskService(analysis),
    audit,
    alerts,
    alertEngine,
    delivery,
    backtest,
    scanner,
    opportunities: new OpportunitiesService(scanner, analysis),
    jobs,
    version: VERSION,
    close: async () => {
      alertEngine.stop();
      await jobs?.close();
      await delivery.stop();
      await scanner.close();
      await audit.flush();
      await backtest.close();
      await stores.close();
    },
  };
}
