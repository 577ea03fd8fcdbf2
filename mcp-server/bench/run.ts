/**
 * `npm run bench`: every benchmark in one run, each printing its figures and ratios against peers
 * measured in the same process. Timings are reported, never asserted.
 */
const suites = [
  './indicators.js',
  './smc.js',
  './analysis.js',
  './portfolio.js',
  './backtest.js',
  './scanner.js',
  './alerts.js',
  './load.js',
  './tool-jobs.js',
];

for (const suite of suites) {
  const mod = (await import(suite)) as { run: () => Promise<void> };
  await mod.run();
}
