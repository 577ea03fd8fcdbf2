/**
 * A small Prometheus metrics registry: counters, gauges and histograms with fixed buckets, rendered in
 * the text exposition format 0.0.4 (what Prometheus, VictoriaMetrics and the OpenTelemetry collector
 * scrape). Written here instead of taking prom-client: the server needs a handful of metric families,
 * and the format is a few rules (name and label syntax, escaping, cumulative buckets ending in +Inf).
 *
 * Series are created on first use; a label set is always the metric's full list of label names, checked
 * at runtime too, so a typo fails loudly in tests instead of making a new series.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type LabelValues<L extends string> = { readonly [K in L]: string };

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Sample lines, without HELP and TYPE. */
  lines(): string[];
}

abstract class Metric<L extends string> implements Family {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || l === 'le') {
        throw new Error(`invalid label name ${l} on ${name}`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label on ${name}`);
  }

  abstract lines(): string[];

  /** The series key of a label set, after checking it names exactly the metric's labels. */
  protected key(labels: LabelValues<L>): string {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || !this.labelNames.every((l) => l in labels)) {
      throw new Error(`${this.name} takes labels {${this.labelNames.join(', ')}}, got {${given.join(', ')}}`);
    }
    return JSON.stringify(this.labelNames.map((l) => String(labels[l])));
  }
}

export class Counter<L extends string = never> extends Metric<L> {
  readonly type = 'counter';
  private readonly series = new Map<string, { labels: LabelValues<L>; value: number }>();

  constructor(options: { name: string; help: string; labelNames?: readonly L[] }) {
    super(options.name, options.help, options.labelNames ?? []);
    if (!options.name.endsWith('_total')) throw new Error(`counter ${options.name} must end in _total`);
  }

  inc(labels: LabelValues<L>, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new Error(`${this.name} can only go up by a finite amount`);
    const key = this.key(labels);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: { ...labels }, value: by });
  }

  /** The current value of one series (0 when it was never incremented). */
  get(labels: LabelValues<L>): number {
    return this.series.get(this.key(labels))?.value ?? 0;
  }

  lines(): string[] {
    return [...this.series.values()].map((s) => sample(this.name, this.labelNames, s.labels, s.value));
  }
}

export class Gauge<L extends string = never> extends Metric<L> {
  readonly type = 'gauge';
  private readonly series = new Map<string, { labels: LabelValues<L>; value: number }>();
  private readonly collect: ((gauge: Gauge<L>) => void) | undefined;

  /** `collect` runs before every render, to read values that are sampled rather than counted. */
  constructor(options: {
    name: string;
    help: string;
    labelNames?: readonly L[];
    collect?: (gauge: Gauge<L>) => void;
  }) {
    super(options.name, options.help, options.labelNames ?? []);
    this.collect = options.collect;
  }

  set(labels: LabelValues<L>, value: number): void {
    const key = this.key(labels);
    const s = this.series.get(key);
    if (s) s.value = value;
    else this.series.set(key, { labels: { ...labels }, value });
  }

  get(labels: LabelValues<L>): number | undefined {
    return this.series.get(this.key(labels))?.value;
  }

  /** Forgets every series: values that can no longer be measured disappear rather than go stale. */
  reset(): void {
    this.series.clear();
  }

  lines(): string[] {
    this.collect?.(this);
    return [...this.series.values()].map((s) => sample(this.name, this.labelNames, s.labels, s.value));
  }
}

/** Buckets for durations in seconds, from 5 ms (a cached answer) to 2 minutes (a large grid backtest). */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];

export class Histogram<L extends string = never> extends Metric<L> {
  readonly type = 'histogram';
  private readonly series = new Map<
    string,
    { labels: LabelValues<L>; counts: number[]; sum: number; count: number }
  >();
  readonly buckets: readonly number[];

  constructor(options: {
    name: string;
    help: string;
    labelNames?: readonly L[];
    buckets: readonly number[];
  }) {
    super(options.name, options.help, options.labelNames ?? []);
    const b = options.buckets;
    if (b.length === 0 || !b.every((v, i) => Number.isFinite(v) && (i === 0 || v > b[i - 1]!))) {
      throw new Error(`${options.name}: buckets must be finite and strictly increasing`);
    }
    this.buckets = [...b];
  }

  observe(labels: LabelValues<L>, value: number): void {
    if (Number.isNaN(value)) return;
    const key = this.key(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    // Stored per bucket, made cumulative when rendered.
    const i = this.buckets.findIndex((upper) => value <= upper);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations of one series (0 when none). */
  count(labels: LabelValues<L>): number {
    return this.series.get(this.key(labels))?.count ?? 0;
  }

  lines(): string[] {
    const out: string[] = [];
    const names = [...this.labelNames, 'le'];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((upper, i) => {
        cumulative += s.counts[i]!;
        out.push(sample(`${this.name}_bucket`, names, { ...s.labels, le: formatValue(upper) }, cumulative));
      });
      out.push(sample(`${this.name}_bucket`, names, { ...s.labels, le: '+Inf' }, s.count));
      out.push(sample(`${this.name}_sum`, this.labelNames, s.labels, s.sum));
      out.push(sample(`${this.name}_count`, this.labelNames, s.labels, s.count));
    }
    return out;
  }
}

export class Registry {
  private readonly families = new Map<string, Family>();

  register<M extends Family>(metric: M): M {
    if (this.families.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.families.set(metric.name, metric);
    return metric;
  }

  /** Every family in registration order: HELP, TYPE, then its samples (families without any too). */
  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...f.lines());
    }
    return out.join('\n') + '\n';
  }
}

function sample(
  name: string,
  labelNames: readonly string[],
  labels: Readonly<Record<string, string>>,
  value: number,
): string {
  if (labelNames.length === 0) return `${name} ${formatValue(value)}`;
  const pairs = labelNames.map((l) => `${l}="${escapeLabelValue(labels[l] ?? '')}"`);
  return `${name}{${pairs.join(',')}} ${formatValue(value)}`;
}

/** Label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed are escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's float syntax as Prometheus reads it: +Inf, -Inf, NaN, otherwise a JavaScript number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
