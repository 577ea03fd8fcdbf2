/**
 * zod schemas for rule conditions and JSON rule strategies, the edge where user JSON becomes a
 * `RuleStrategySpec`.
 *
 * A recursive zod union alone reports a typo deep in a tree as "Invalid input" with one nested error
 * per union branch, and overflows the stack on absurdly deep input. So each condition tree is first
 * walked by a hand-written checker that picks the branch from the keys, stops at the depth and size
 * limits, validates every series reference with `parseSeriesRef` and reports one precise issue per
 * problem, e.g. `entry_long.all.1.left: unknown series "emaa(20)"; accepted: open, ..., ema(n), ...`.
 * Only a tree that passes reaches the typed union, which still defines the output type and the JSON
 * Schema (MCP `inputSchema`).
 */
import { z } from 'zod';
import { FLAG_SERIES, parseSeriesRef } from './series.js';
import type { Comparison, Condition } from './types.js';

/** Deepest nesting accepted: a bare comparison is depth 1, `{ all: [comparison] }` depth 2. */
export const MAX_CONDITION_DEPTH = 8;
/** Most condition nodes (comparisons, flags and the all/any/not around them) in one spec. */
export const MAX_CONDITIONS = 50;

export const COMPARISONS: readonly Comparison[] = ['>', '>=', '<', '<=', 'crosses_above', 'crosses_below'];

export interface RuleIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

const FORMS = 'a condition is one of {left, op, right}, {is}, {all: [...]}, {any: [...]}, {not}';

/**
 * Every problem in a condition tree, with paths relative to the tree's root; empty when it is valid.
 * Nodes past `MAX_CONDITION_DEPTH` or beyond `MAX_CONDITIONS` are reported once and not walked.
 */
export function conditionIssues(value: unknown): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const budget = { nodes: 0, reported: false };
  walk(value, [], 1, budget, issues);
  return issues;
}

/** Condition nodes in a (valid) tree, for the spec-wide `MAX_CONDITIONS` limit. */
export function countConditions(condition: Condition): number {
  if ('all' in condition) return 1 + condition.all.reduce((sum, c) => sum + countConditions(c), 0);
  if ('any' in condition) return 1 + condition.any.reduce((sum, c) => sum + countConditions(c), 0);
  if ('not' in condition) return 1 + countConditions(condition.not);
  return 1;
}

function walk(
  value: unknown,
  path: (string | number)[],
  depth: number,
  budget: { nodes: number; reported: boolean },
  issues: RuleIssue[],
): void {
  const issue = (message: string, at: (string | number)[] = path): void => {
    issues.push({ path: at, message });
  };
  if (depth > MAX_CONDITION_DEPTH) return issue(`conditions nest deeper than ${MAX_CONDITION_DEPTH} levels`);
  if (++budget.nodes > MAX_CONDITIONS) {
    if (!budget.reported) issue(`more than ${MAX_CONDITIONS} conditions`);
    budget.reported = true;
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return issue(`expected a condition object; ${FORMS}`);
  }
  const node = value as Record<string, unknown>;
  const keys = Object.keys(node);
  const forms = ['is', 'all', 'any', 'not'].filter((k) => k in node);
  if (keys.some((k) => k === 'left' || k === 'op' || k === 'right')) forms.push('comparison');
  if (forms.length !== 1) {
    const got = keys.length === 0 ? 'no keys' : `keys ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return issue(`${FORMS}; got ${got}`);
  }
  const form = forms[0]!;
  const allowed = form === 'comparison' ? ['left', 'op', 'right'] : [form];
  for (const k of keys) {
    if (!allowed.includes(k)) {
      issue(`unknown key ${JSON.stringify(k)} beside ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
  }

  if (form === 'comparison') {
    for (const side of ['left', 'right'] as const) {
      if (!(side in node)) issue(`missing "${side}": a series reference or a number`);
      else checkOperand(node[side], [...path, side], issues);
    }
    if (!('op' in node)) issue(`missing "op"; accepted: ${COMPARISONS.join(', ')}`);
    else if (!COMPARISONS.includes(node.op as Comparison)) {
      issue(`unknown op ${JSON.stringify(node.op)}; accepted: ${COMPARISONS.join(', ')}`, [...path, 'op']);
    }
    if (typeof node.left === 'number' && typeof node.right === 'number') {
      issue('both sides are numbers: compare at least one series');
    }
  } else if (form === 'is') {
    checkFlag(node.is, [...path, 'is'], issues);
  } else if (form === 'not') {
    walk(node.not, [...path, 'not'], depth + 1, budget, issues);
  } else {
    const children = node[form];
    if (!Array.isArray(children) || children.length === 0) {
      return issue(`"${form}" needs a non-empty array of conditions`, [...path, form]);
    }
    children.forEach((child, k) => walk(child, [...path, form, k], depth + 1, budget, issues));
  }
}

function checkOperand(value: unknown, path: (string | number)[], issues: RuleIssue[]): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) issues.push({ path, message: `expected a finite number, got ${value}` });
  } else if (typeof value === 'string') {
    try {
      parseSeriesRef(value);
    } catch (e) {
      issues.push({ path, message: (e as Error).message });
    }
  } else {
    issues.push({ path, message: 'expected a series reference (string) or a number' });
  }
}

function checkFlag(value: unknown, path: (string | number)[], issues: RuleIssue[]): void {
  if (typeof value !== 'string') {
    issues.push({ path, message: `expected a flag series name; accepted: ${FLAG_SERIES.join(', ')}` });
    return;
  }
  try {
    const ref = parseSeriesRef(value);
    if (ref.kind !== 'event' && ref.kind !== 'zone') {
      issues.push({
        path,
        message: `${JSON.stringify(value)} is not a flag series (compare it with left/op/right instead); "is" accepts: ${FLAG_SERIES.join(', ')}`,
      });
    }
  } catch (e) {
    issues.push({ path, message: (e as Error).message });
  }
}

const operandSchema = z
  .union([z.string(), z.number()])
  .describe('A series reference such as "close", "ema(20)", "rsi(14)", "bb_lower(20,2)", or a number');

/** The condition shape, recursive; used for typing and JSON Schema once `conditionIssues` passed. */
const conditionShape: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({
      left: operandSchema,
      op: z.enum(COMPARISONS as [Comparison, ...Comparison[]]),
      right: operandSchema,
    }),
    z.strictObject({ is: z.string().describe('An SMC flag series, e.g. "choch_bullish", "in_bullish_ob"') }),
    z.strictObject({ all: z.array(conditionShape).min(1) }),
    z.strictObject({ any: z.array(conditionShape).min(1) }),
    z.strictObject({ not: conditionShape }),
  ]),
);

/** One condition (a rule or an alert trigger), checked with precise messages; see the file comment. */
export const ruleConditionSchema = z.preprocess((value, ctx) => {
  for (const { path, message } of conditionIssues(value))
    ctx.addIssue({ code: 'custom', path, message, input: value });
  return value;
}, conditionShape);

const rule = (what: string) => ruleConditionSchema.optional().describe(what);

/** A JSON rule strategy; at least one entry rule is required. */
export const ruleStrategySpecSchema = z
  .strictObject({
    entry_long: rule('When to open a long, evaluated on each closed bar; fills at the next open'),
    exit_long: rule('When to close a long'),
    entry_short: rule('When to open a short (only used when shorts are allowed)'),
    exit_short: rule('When to close a short'),
    stop_loss_pct: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe('Stop at this fraction from the entry, e.g. 0.03'),
    take_profit_pct: z.number().gt(0).max(100).optional().describe('Target at this fraction from the entry'),
    stop_atr: z
      .number()
      .gt(0)
      .max(100)
      .optional()
      .describe("Stop at this many ATR(14) from the signal bar's close; overrides stop_loss_pct"),
  })
  .superRefine((spec, ctx) => {
    if (spec.entry_long === undefined && spec.entry_short === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a rule strategy needs entry_long or entry_short' });
    }
    const rules = [spec.entry_long, spec.exit_long, spec.entry_short, spec.exit_short];
    const total = rules.reduce((sum, r) => sum + (r === undefined ? 0 : countConditions(r)), 0);
    if (total > MAX_CONDITIONS) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `more than ${MAX_CONDITIONS} conditions in total (${total})`,
      });
    }
  });

/** Issues as `path: message` lines, e.g. `entry_long.all.1.left: unknown series "emaa(20)"; ...`. */
export function formatRuleIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => (i.path.length === 0 ? i.message : `${i.path.join('.')}: ${i.message}`));
}
