/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on anything a
 * conforming producer would not write, and checks the rules Prometheus relies on: HELP and TYPE once per
 * family and before its samples, samples of a family together, valid names, label escapes and numbers,
 * no duplicate series, counters ending in _total, and for histograms buckets with increasing `le`,
 * cumulative counts, a final +Inf bucket equal to _count, and a _sum.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const lines = text.slice(0, -1).split('\n');
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  let current: MetricFamily | null = null;
  const closed = new Set<string>();

  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') throw new Error(`${where}: empty line`);
    if (line.startsWith('#')) {
      const help = HELP_LINE.exec(line);
      const type = TYPE_LINE.exec(line);
      const name = help?.[1] ?? type?.[1];
      if (!name) throw new Error(`${where}: neither a valid HELP nor TYPE line`);
      if (current && current.name !== name) closed.add(current.name);
      if (closed.has(name)) throw new Error(`${where}: ${name} appears in two places`);
      let family = families.get(name);
      if (!family) {
        family = { name, type: '', help: '', samples: [] };
        families.set(name, family);
      }
      if (family.samples.length > 0) throw new Error(`${where}: HELP/TYPE after samples of ${name}`);
      if (help) {
        if (family.help) throw new Error(`${where}: second HELP for ${name}`);
        family.help = unescape(help[2]!, false, where);
        if (!family.help) throw new Error(`${where}: empty HELP`);
      } else {
        if (family.type) throw new Error(`${where}: second TYPE for ${name}`);
        family.type = type![2]!;
      }
      current = family;
      return;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`${where}: not a sample line`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    if (!VALUE.test(valueText)) throw new Error(`${where}: bad value ${valueText}`);
    if (!current) throw new Error(`${where}: sample before any HELP/TYPE`);
    if (!current.help || !current.type) throw new Error(`${where}: ${current.name} lacks HELP or TYPE`);
    const family = current;
    const allowed =
      family.type === 'histogram'
        ? [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`]
        : [family.name];
    if (!allowed.includes(name)) throw new Error(`${where}: ${name} does not belong to ${family.name}`);
    if (family.type === 'counter' && !family.name.endsWith('_total')) {
      throw new Error(`${where}: counter ${family.name} does not end in _total`);
    }
    const labels = parseLabels(labelText ?? '', where);
    if (name.endsWith('_bucket') && family.type === 'histogram' && labels.le === undefined) {
      throw new Error(`${where}: bucket without le`);
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    family.samples.push({ name, labels, value: Number(valueText.replace('Inf', 'Infinity')) });
  });

  for (const f of families.values()) {
    if (!f.help || !f.type) throw new Error(`${f.name}: HELP or TYPE missing`);
    if (f.type === 'histogram') checkHistogram(f);
  }
  return families;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  const pair = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\["\\\\n])*)"(,|$)`);
  while (rest.length > 0) {
    const m = pair.exec(rest);
    if (!m) throw new Error(`${where}: bad label syntax at ${JSON.stringify(rest)}`);
    const [whole, name, raw, comma] = m as unknown as [string, string, string, string];
    if (name.startsWith('__')) throw new Error(`${where}: reserved label ${name}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = unescape(raw, true, where);
    rest = rest.slice(whole.length);
    if (comma === ',' && rest.length === 0) throw new Error(`${where}: trailing comma`);
  }
  return labels;
}

/** Label values may escape \\, \" and \n; HELP text \\ and \n. Anything else after a backslash is invalid. */
function unescape(text: string, quotes: boolean, where: string): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    throw new Error(`${where}: invalid escape \\${c}`);
  });
}

function checkHistogram(f: MetricFamily): void {
  const groups = new Map<string, { buckets: Sample[]; sum?: Sample; count?: Sample }>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) g.buckets.push(s);
    else if (s.name.endsWith('_sum')) g.sum = s;
    else g.count = s;
  }
  for (const [key, g] of groups) {
    const what = `${f.name}${key}`;
    if (!g.sum || !g.count) throw new Error(`${what}: _sum or _count missing`);
    if (g.buckets.length === 0) throw new Error(`${what}: no buckets`);
    let previousLe = -Infinity;
    let previousCount = 0;
    for (const b of g.buckets) {
      const le = Number(b.labels.le!.replace('Inf', 'Infinity'));
      if (!(le > previousLe)) throw new Error(`${what}: le ${b.labels.le} not increasing`);
      if (b.value < previousCount) throw new Error(`${what}: bucket ${b.labels.le} not cumulative`);
      if (!Number.isInteger(b.value) || b.value < 0) throw new Error(`${what}: bucket count ${b.value}`);
      previousLe = le;
      previousCount = b.value;
    }
    const last = g.buckets[g.buckets.length - 1]!;
    if (last.labels.le !== '+Inf') throw new Error(`${what}: the last bucket is not +Inf`);
    if (last.value !== g.count.value)
      throw new Error(`${what}: _count ${g.count.value} != +Inf bucket ${last.value}`);
  }
}

/** The value of the sample `name` whose labels include `labels`; 0 when there is none (never observed). */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  return findSample(families, name, labels)?.value ?? 0;
}

export function findSample(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): Sample | undefined {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name);
  const matches = (family?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0];
}
