/**
 * zod schema for alert conditions given as structured JSON, the edge where user JSON becomes an
 * `AlertCondition`.
 *
 * As in `rules/schema.ts`, a hand-written walker runs first: it picks the branch from `kind`, stops at
 * the depth and size limits (so absurd input neither overflows the stack nor floods the caller with
 * union errors), validates series references with `parseSeriesRef` and timeframes against TIMEFRAMES,
 * and reports one issue per problem with a path, e.g. `conditions.1.left.series: unknown series
 * "emaa(20)"; accepted: ...`. Only a tree that passes reaches the typed union, which defines the output
 * type and the JSON Schema.
 */
import { z } from 'zod';
import { TIMEFRAMES, isTimeframe } from '../../market/timeframes.js';
import { COMPARISONS, MAX_CONDITIONS, MAX_CONDITION_DEPTH, type RuleIssue } from '../rules/schema.js';
import { MAX_SERIES_PERIOD, parseSeriesRef } from '../rules/series.js';
import type { Comparison } from '../rules/types.js';
import type { AlertCondition, AlertOperand, TimedSeries } from './types.js';

/** Largest percent move accepted (a 100x). */
export const MAX_MOVE_PCT = 10_000;

const KINDS = ['compare', 'flag', 'move', 'price', 'portfolio', 'all', 'any'] as const;
const PRICE_OPS = ['above', 'below', 'crosses_above', 'crosses_below'] as const;
const DIRECTIONS = ['up', 'down', 'either'] as const;
const METRICS = ['drawdown_pct', 'var95_pct'] as const;

const KEYS: Record<(typeof KINDS)[number], readonly string[]> = {
  compare: ['left', 'op', 'right'],
  flag: ['flag'],
  move: ['timeframe', 'window', 'pct', 'direction'],
  price: ['op', 'level'],
  portfolio: ['portfolio_id', 'metric', 'above'],
  all: ['conditions'],
  any: ['conditions'],
};

type Path = (string | number)[];
type Budget = { nodes: number; reported: boolean };
/** What a subtree is evaluated on: ticks (price), candle closes, or neither (portfolio). */
type Clock = 'tick' | 'candle' | 'other' | 'none';

/**
 * Every problem in an alert condition tree, paths relative to its root; empty when it is valid.
 * Besides shapes and ranges it rejects trees that mix price (tick) conditions with candle conditions,
 * and `all` over price conditions, which no evaluator supports.
 */
export function alertConditionIssues(value: unknown): RuleIssue[] {
  const issues: RuleIssue[] = [];
  walk(value, [], 1, { nodes: 0, reported: false }, issues);
  return issues;
}

function walk(value: unknown, path: Path, depth: number, budget: Budget, issues: RuleIssue[]): Clock {
  const issue = (message: string, at: Path = path): Clock => {
    issues.push({ path: at, message });
    return 'none';
  };
  if (depth > MAX_CONDITION_DEPTH) return issue(`conditions nest deeper than ${MAX_CONDITION_DEPTH} levels`);
  if (++budget.nodes > MAX_CONDITIONS) {
    if (!budget.reported) issue(`more than ${MAX_CONDITIONS} conditions`);
    budget.reported = true;
    return 'none';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return issue(`expected a condition object with "kind": one of ${KINDS.join(', ')}`);
  }
  const node = value as Record<string, unknown>;
  const kind = node.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    return issue(`"kind" must be one of ${KINDS.join(', ')}; got ${JSON.stringify(kind)}`, [...path, 'kind']);
  }
  const k = kind as (typeof KINDS)[number];
  for (const key of Object.keys(node)) {
    if (key !== 'kind' && !KEYS[k].includes(key)) {
      issue(`unknown key ${JSON.stringify(key)} in a ${k} condition; it takes ${KEYS[k].join(', ')}`);
    }
  }
  const at = (key: string): Path => [...path, key];
  const oneOf = (key: string, options: readonly string[]): void => {
    if (!options.includes(node[key] as string)) {
      issue(`"${key}" must be one of ${options.join(', ')}; got ${JSON.stringify(node[key])}`, at(key));
    }
  };
  const numberIn = (key: string, min: number, max: number, integer = false): void => {
    const v = node[key];
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
    if (!ok || (integer && !Number.isInteger(v))) {
      const what = integer ? 'an integer' : 'a number';
      issue(`"${key}" must be ${what} from ${min} to ${max}; got ${JSON.stringify(v)}`, at(key));
    }
  };
  switch (k) {
    case 'compare': {
      const l = checkOperand(node.left, at('left'), issues);
      const r = checkOperand(node.right, at('right'), issues);
      oneOf('op', COMPARISONS);
      if (l === 'number' && r === 'number') issue('both sides are numbers: compare at least one series');
      return 'candle';
    }
    case 'flag':
      checkTimedSeries(node.flag, at('flag'), issues, true);
      return 'candle';
    case 'move':
      checkTimeframe(node.timeframe, at('timeframe'), issues, true);
      numberIn('window', 1, MAX_SERIES_PERIOD, true);
      numberIn('pct', Number.MIN_VALUE, MAX_MOVE_PCT);
      oneOf('direction', DIRECTIONS);
      return 'candle';
    case 'price':
      oneOf('op', PRICE_OPS);
      numberIn('level', Number.MIN_VALUE, Number.MAX_VALUE);
      return 'tick';
    case 'portfolio':
      if (
        typeof node.portfolio_id !== 'string' ||
        node.portfolio_id.length === 0 ||
        node.portfolio_id.length > 200
      ) {
        issue(
          '"portfolio_id" must be the id of a stored portfolio (1 to 200 characters)',
          at('portfolio_id'),
        );
      }
      oneOf('metric', METRICS);
      numberIn('above', 0, 100);
      return 'other';
    case 'all':
    case 'any': {
      const children = node.conditions;
      if (!Array.isArray(children) || children.length === 0) {
        return issue(`"${k}" needs a non-empty array "conditions"`, at('conditions'));
      }
      const clocks = children.map((child, i) =>
        walk(child, [...path, 'conditions', i], depth + 1, budget, issues),
      );
      const kinds = new Set(clocks.filter((c) => c !== 'none'));
      if (kinds.size > 1) {
        return issue(
          'price conditions (ticks), candle conditions and portfolio conditions cannot be combined in one alert',
        );
      }
      const clock = kinds.values().next().value ?? 'none';
      if (clock === 'tick' && k === 'all') issue('price conditions can only be combined with "any"');
      return clock;
    }
  }
}

function checkOperand(value: unknown, path: Path, issues: RuleIssue[]): 'number' | 'series' | 'bad' {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return 'number';
    issues.push({ path, message: `expected a finite number, got ${value}` });
    return 'bad';
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return checkTimedSeries(value, path, issues, false) ? 'series' : 'bad';
  }
  issues.push({
    path,
    message: 'expected a number or a series object such as { "series": "rsi(14)", "timeframe": "1h" }',
  });
  return 'bad';
}

function checkTimedSeries(value: unknown, path: Path, issues: RuleIssue[], flag: boolean): boolean {
  const example = flag
    ? '{ "series": "choch_bullish", "timeframe": "1h" }'
    : '{ "series": "rsi(14)", "timeframe": "1h" }';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, message: `expected a series object such as ${example}` });
    return false;
  }
  const node = value as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(node)) {
    if (key !== 'series' && key !== 'timeframe') {
      issues.push({
        path,
        message: `unknown key ${JSON.stringify(key)}; a series object takes series and timeframe`,
      });
      ok = false;
    }
  }
  if (typeof node.series !== 'string') {
    issues.push({
      path: [...path, 'series'],
      message: `"series" must be a series reference string, e.g. ${example}`,
    });
    ok = false;
  } else {
    try {
      const ref = parseSeriesRef(node.series);
      if (flag && ref.kind !== 'event' && ref.kind !== 'zone') {
        issues.push({
          path: [...path, 'series'],
          message: `${JSON.stringify(node.series)} is not a flag series; use a compare condition for it, or a flag such as choch_bullish, in_bullish_ob`,
        });
        ok = false;
      }
    } catch (e) {
      issues.push({ path: [...path, 'series'], message: (e as Error).message });
      ok = false;
    }
  }
  if ('timeframe' in node) ok = checkTimeframe(node.timeframe, [...path, 'timeframe'], issues, false) && ok;
  return ok;
}

function checkTimeframe(value: unknown, path: Path, issues: RuleIssue[], required: boolean): boolean {
  if (value === undefined && !required) return true;
  if (typeof value === 'string' && isTimeframe(value)) return true;
  issues.push({
    path,
    message: `timeframe must be one of ${TIMEFRAMES.join(', ')}; got ${JSON.stringify(value)}`,
  });
  return false;
}

const timeframeSchema = z.enum(TIMEFRAMES).describe('Candle timeframe, e.g. 1h, 4h, 1d');
const timedSeriesSchema: z.ZodType<TimedSeries> = z.strictObject({
  series: z.string().describe('A series reference such as "close", "ema(20)", "rsi(14)", "choch_bullish"'),
  timeframe: timeframeSchema.optional().describe("The series' timeframe; the alert's timeframe when omitted"),
});
const operandSchema: z.ZodType<AlertOperand> = z.union([timedSeriesSchema, z.number()]);

/** The typed shape, recursive; reached only once `alertConditionIssues` passed. */
const conditionShape: z.ZodType<AlertCondition> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('compare'),
      left: operandSchema,
      op: z.enum(COMPARISONS as [Comparison, ...Comparison[]]),
      right: operandSchema,
    }),
    z.strictObject({ kind: z.literal('flag'), flag: timedSeriesSchema }),
    z.strictObject({
      kind: z.literal('move'),
      timeframe: timeframeSchema,
      window: z.number().int().min(1).max(MAX_SERIES_PERIOD).describe('Closed candles to look back'),
      pct: z.number().positive().max(MAX_MOVE_PCT).describe('Percent move, e.g. 5'),
      direction: z.enum(DIRECTIONS),
    }),
    z.strictObject({ kind: z.literal('price'), op: z.enum(PRICE_OPS), level: z.number().positive() }),
    z.strictObject({
      kind: z.literal('portfolio'),
      portfolio_id: z.string().min(1).max(200),
      metric: z.enum(METRICS),
      above: z.number().min(0).max(100),
    }),
    z.strictObject({ kind: z.literal('all'), conditions: z.array(conditionShape).min(1) }),
    z.strictObject({ kind: z.literal('any'), conditions: z.array(conditionShape).min(1) }),
  ]),
);

/** An alert condition as structured JSON, checked with precise messages; see the file comment. */
export const alertConditionSchema = z.preprocess((value, ctx) => {
  for (const { path, message } of alertConditionIssues(value)) {
    ctx.addIssue({ code: 'custom', path, message, input: value });
  }
  return value;
}, conditionShape);
