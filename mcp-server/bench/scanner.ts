/**
 * market_scanner speed over the offline 404-market universe (every scan type, 1h): cold (a new market
 * layer and scanner: the snapshot decoded, the worker pool started), warm with the candles cached but
 * every detector rerun (a new scanner on the same market layer), and warm as a repeated call sees it
 * (candles and per-series scan results cached). Uses the built worker when `dist/` exists, as the server
 * does. Targets from the issue: 2 s cold, 250 ms warm.
 */
import { MarketData } from '../src/market/index.js';
import { ScannerService } from '../src/services/scanner.js';
import { marketScannerInput } from '../src/tools/market-scanner.js';
import { fmt, summarize, timeAsync, type Timing } from './harness.js';

const workerUrl = new URL('../dist/services/scan-worker.js', import.meta.url);
const row = (t: Timing, target: number) =>
  console.log(
    `  ${t.name.padEnd(60)} p50 ${fmt(t.p50Ms).padStart(9)}  p95 ${fmt(t.p95Ms).padStart(9)}  (n=${t.iterations})   ${t.p50Ms <= target ? 'meets' : 'MISSES'} the ${target >= 1000 ? `${target / 1000} s` : `${target} ms`} target`,
  );

export async function run(): Promise<void> {
  console.log('\n== market_scanner, offline universe (404 markets, all scan types, 1h) ==');
  // The whole universe: no volume floor, stablecoin pairs kept.
  const request = marketScannerInput.parse({
    scan_type: 'all',
    max_results: 20,
    min_volume_usd: 0,
    include_stablecoins: true,
  });
  let scanned = 0;
  const cold: number[] = [];
  for (let i = 0; i < 3; i++) {
    const scanner = new ScannerService(new MarketData({ mode: 'offline' }), { workerUrl });
    const t0 = performance.now();
    const r = await scanner.scan(request);
    cold.push(performance.now() - t0);
    scanned = r.universe.scanned;
    await scanner.close();
  }
  row(summarize(`cold: snapshot decoded, pool started (${scanned} scanned)`, cold), 2_000);

  const market = new MarketData({ mode: 'offline' });
  await new ScannerService(market, { workerUrl: null }).scan(request);
  const fresh: number[] = [];
  for (let i = 0; i < 10; i++) {
    const scanner = new ScannerService(market, { workerUrl });
    await scanner.scan(marketScannerInput.parse({ scan_type: 'volume_surge', symbols: ['BTCUSDT'] }));
    const t0 = performance.now();
    await scanner.scan(request);
    fresh.push(performance.now() - t0);
    await scanner.close();
  }
  row(summarize('warm candles, every detector rerun on the pool', fresh), 250);

  const scanner = new ScannerService(market, { workerUrl });
  try {
    row(
      await timeAsync('warm: repeated call (candles and results cached)', () => scanner.scan(request), 30, 3),
      250,
    );
  } finally {
    await scanner.close();
  }
}
