/**
 * Process gauges, read when /metrics is scraped: resident memory, V8 heap, event-loop lag and uptime.
 * Names follow prom-client's defaults (process_*, nodejs_*) so the usual Node.js dashboards work.
 *
 * Event-loop lag comes from perf_hooks' delay histogram. Its samples are timer-to-timer intervals, so
 * the sampling resolution is subtracted to leave the lag itself; the histogram restarts at every scrape,
 * so mean, p99 and max describe the time since the previous scrape.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from './metrics.js';

const RESOLUTION_MS = 10;
const NS_PER_S = 1e9;

export function registerProcessMetrics(registry: Registry): void {
  let delay: IntervalHistogram | null = null;
  // Started on the first scrape's collection: a CLI run or a stdio server never pays for the timer.
  const lagSeconds = (read: (h: IntervalHistogram) => number) => (g: Gauge) => {
    if (!delay) {
      delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      delay.enable();
    }
    // No samples yet: 0 rather than the histogram's NaN/huge sentinels.
    const v = delay.count > 0 ? read(delay) : 0;
    g.set({}, Math.max(0, v / NS_PER_S - RESOLUTION_MS / 1000));
  };

  const gauge = (name: string, help: string, collect: (g: Gauge) => void) =>
    registry.register(new Gauge({ name, help, collect }));

  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', (g) =>
    g.set({}, process.memoryUsage.rss()),
  );
  gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', (g) =>
    g.set({}, process.memoryUsage().heapUsed),
  );
  gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated, in bytes.', (g) =>
    g.set({}, process.memoryUsage().heapTotal),
  );
  gauge(
    'nodejs_external_memory_bytes',
    'Memory of C++ objects bound to JavaScript (buffers), in bytes.',
    (g) => g.set({}, process.memoryUsage().external),
  );
  gauge(
    'nodejs_eventloop_lag_mean_seconds',
    'Mean event-loop lag since the previous scrape, in seconds.',
    lagSeconds((h) => h.mean),
  );
  gauge(
    'nodejs_eventloop_lag_p99_seconds',
    '99th percentile of the event-loop lag since the previous scrape, in seconds.',
    lagSeconds((h) => h.percentile(99)),
  );
  gauge(
    'nodejs_eventloop_lag_max_seconds',
    'Largest event-loop lag since the previous scrape, in seconds.',
    (g) => {
      lagSeconds((h) => h.max)(g);
      delay?.reset(); // the last of the three lag gauges: the next scrape starts a new window
    },
  );
  const started = Math.round(Date.now() / 1000 - process.uptime());
  gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', (g) =>
    g.set({}, started),
  );
  gauge('process_uptime_seconds', 'Seconds since the process started.', (g) => g.set({}, process.uptime()));
}
