/**
 * The metrics registry against the exposition format, read back by the strict parser: escaping of
 * label values and HELP text, cumulative histogram buckets ending in +Inf, and the checks that keep
 * series and names valid. The process-wide registry (instruments.ts) must render valid text too.
 */
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry, formatValue } from '../../src/observability/metrics.js';
import { registry as processRegistry } from '../../src/observability/instruments.js';
import { findSample, parseExposition, sampleValue } from '../helpers/prometheus.js';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms that parse back to the same numbers', () => {
    const r = new Registry();
    const c = r.register(new Counter({ name: 't_requests_total', help: 'Requests.', labelNames: ['route'] }));
    const g = r.register(new Gauge({ name: 't_depth', help: 'Depth.' }));
    const h = r.register(
      new Histogram({ name: 't_seconds', help: 'Durations.', labelNames: ['op'], buckets: [0.1, 1, 10] }),
    );
    c.inc({ route: 'a' });
    c.inc({ route: 'a' }, 2);
    c.inc({ route: 'b' });
    g.set({}, -3.5);
    for (const v of [0.05, 0.1, 0.5, 2, 20, 20]) h.observe({ op: 'x' }, v);

    const f = parseExposition(r.render());
    expect(f.get('t_requests_total')).toMatchObject({ type: 'counter', help: 'Requests.' });
    expect(sampleValue(f, 't_requests_total', { route: 'a' })).toBe(3);
    expect(sampleValue(f, 't_requests_total', { route: 'b' })).toBe(1);
    expect(sampleValue(f, 't_depth')).toBe(-3.5);
    // le is inclusive: 0.1 falls in the 0.1 bucket.
    expect(sampleValue(f, 't_seconds_bucket', { op: 'x', le: '0.1' })).toBe(2);
    expect(sampleValue(f, 't_seconds_bucket', { op: 'x', le: '1' })).toBe(3);
    expect(sampleValue(f, 't_seconds_bucket', { op: 'x', le: '10' })).toBe(4);
    expect(sampleValue(f, 't_seconds_bucket', { op: 'x', le: '+Inf' })).toBe(6);
    expect(sampleValue(f, 't_seconds_count', { op: 'x' })).toBe(6);
    expect(sampleValue(f, 't_seconds_sum', { op: 'x' })).toBeCloseTo(42.65, 10);
    expect(h.count({ op: 'x' })).toBe(6);
  });

  it('escapes label values and HELP text as the format requires', () => {
    const r = new Registry();
    const c = r.register(
      new Counter({ name: 'esc_total', help: 'Line one\nline two with a \\ backslash.', labelNames: ['v'] }),
    );
    const nasty = 'quote " backslash \\ newline \n end';
    c.inc({ v: nasty });
    const text = r.render();
    expect(text).toContain('esc_total{v="quote \\" backslash \\\\ newline \\n end"} 1');
    expect(text).toContain('# HELP esc_total Line one\\nline two with a \\\\ backslash.');
    const f = parseExposition(text);
    expect(f.get('esc_total')!.help).toBe('Line one\nline two with a \\ backslash.');
    expect(findSample(f, 'esc_total')!.labels.v).toBe(nasty);
  });

  it('writes special values in Go float syntax', () => {
    expect([Infinity, -Infinity, NaN, 0, 1.5, 1e21].map(formatValue)).toEqual([
      '+Inf',
      '-Inf',
      'NaN',
      '0',
      '1.5',
      '1e+21',
    ]);
  });

  it('lists families without samples with HELP and TYPE only', () => {
    const r = new Registry();
    r.register(new Histogram({ name: 'empty_seconds', help: 'Nothing yet.', buckets: [1] }));
    expect(r.render()).toBe('# HELP empty_seconds Nothing yet.\n# TYPE empty_seconds histogram\n');
    expect(parseExposition(r.render()).get('empty_seconds')!.samples).toEqual([]);
  });

  it('refuses invalid names, wrong label sets, decreasing counters and bad buckets', () => {
    expect(() => new Counter({ name: 'bad-name_total', help: 'x' })).toThrow(/metric name/);
    expect(() => new Counter({ name: 'no_suffix', help: 'x' })).toThrow(/_total/);
    expect(() => new Gauge({ name: 'g', help: 'x', labelNames: ['le'] })).toThrow(/label name/);
    expect(() => new Gauge({ name: 'g', help: 'x', labelNames: ['__x'] })).toThrow(/label name/);
    expect(() => new Histogram({ name: 'h', help: 'x', buckets: [1, 1] })).toThrow(/increasing/);
    expect(() => new Histogram({ name: 'h', help: 'x', buckets: [] })).toThrow(/increasing/);
    const c = new Counter({ name: 'c_total', help: 'x', labelNames: ['a'] });
    expect(() => c.inc({ a: '1' }, -1)).toThrow(/go up/);
    expect(() => c.inc({ b: '1' } as never)).toThrow(/takes labels/);
    const r = new Registry();
    r.register(c);
    expect(() => r.register(new Counter({ name: 'c_total', help: 'y' }))).toThrow(/twice/);
  });

  it('drops reset gauge series and reads collected gauges at render time', () => {
    let reading = 1;
    const r = new Registry();
    const g = r.register(new Gauge({ name: 'q', help: 'Queue.', labelNames: ['s'] }));
    r.register(new Gauge({ name: 'live', help: 'Sampled.', collect: (x) => x.set({}, reading) }));
    g.set({ s: 'a' }, 1);
    g.reset();
    reading = 7;
    const f = parseExposition(r.render());
    expect(f.get('q')!.samples).toEqual([]);
    expect(sampleValue(f, 'live')).toBe(7);
  });

  it('renders the server registry as valid exposition, process metrics included', () => {
    const f = parseExposition(processRegistry.render());
    for (const name of [
      'crypto_mcp_tool_calls_total',
      'crypto_mcp_tool_duration_seconds',
      'crypto_mcp_cache_requests_total',
      'crypto_mcp_exchange_errors_total',
      'crypto_mcp_alert_deliveries_total',
      'crypto_mcp_outbox_messages',
      'crypto_mcp_queue_jobs',
      'crypto_mcp_tool_job_workers',
      'crypto_mcp_tool_jobs_total',
      'crypto_mcp_tool_job_duration_seconds',
      'crypto_mcp_tool_job_fallbacks_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'process_uptime_seconds',
    ]) {
      expect(f.has(name), name).toBe(true);
    }
    expect(sampleValue(f, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(f, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(f, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0);
  });
});

describe('the strict exposition parser used by these tests', () => {
  const head = '# HELP h_seconds H.\n# TYPE h_seconds histogram\n';
  it.each([
    ['a sample without HELP and TYPE', 'x 1\n'],
    ['a missing final line feed', '# HELP x X.\n# TYPE x gauge\nx 1'],
    ['a bad value', '# HELP x X.\n# TYPE x gauge\nx one\n'],
    ['an invalid escape', '# HELP x X.\n# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['an unescaped quote', '# HELP x X.\n# TYPE x gauge\nx{a="""} 1\n'],
    ['a duplicate series', '# HELP x X.\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['a counter without _total', '# HELP x X.\n# TYPE x counter\nx 1\n'],
    ['a foreign sample in a family', '# HELP x X.\n# TYPE x gauge\ny 1\n'],
    [
      'buckets that are not cumulative',
      `${head}h_seconds_bucket{le="1"} 2\nh_seconds_bucket{le="+Inf"} 1\nh_seconds_sum 1\nh_seconds_count 1\n`,
    ],
    ['no +Inf bucket', `${head}h_seconds_bucket{le="1"} 1\nh_seconds_sum 1\nh_seconds_count 1\n`],
    [
      '_count different from +Inf',
      `${head}h_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 1\nh_seconds_count 3\n`,
    ],
    ['no _sum', `${head}h_seconds_bucket{le="+Inf"} 1\nh_seconds_count 1\n`],
  ])('refuses %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
