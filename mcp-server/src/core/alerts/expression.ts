/**
 * The alert expression language: a small text form of `AlertCondition`, read by a hand-written tokenizer
 * and a recursive-descent parser (never eval/Function: identifiers only ever become series names, which
 * `parseSeriesRef` looks up in a Map, so hostile input such as `constructor.constructor("x")()` is a
 * syntax error, not code).
 *
 * Grammar (keywords and series names are case-insensitive; timeframes keep `m` minute vs `M` month):
 *
 *   expr       := and (("or" | "||") and)*
 *   and        := unary (("and" | "&&") unary)*
 *   unary      := ("not" | "!") unary | "(" expr ")" | cross | comparison | flag
 *   cross      := ("cross_above" | "crosses_above" | "cross_below" | "crosses_below") "(" operand "," operand ")"
 *   comparison := operand op operand
 *   op         := ">" | ">=" | "<" | "<=" | "above" | "below" | "crosses above" | "crosses below"
 *               | "crosses_above" | "crosses_below" | "crosses"          (crosses = either direction)
 *   operand    := number | series | "price" | move | "abs(" move ")" | "signal"
 *   series     := name [ "(" [number ("," number)*] [","] [timeframe] ")" ]   e.g. rsi, rsi(14, 1h), close(4h)
 *   move       := "move(" window ["," timeframe] ")"  compared with a percentage
 *
 * Forms and what they compile to:
 * - `close(4h) > 70000`, `rsi(14, 1h) < 30`, `ema(20) >= ema(50)`: compare (a series without a timeframe
 *   reads the alert's default timeframe). Series are stored by canonical key (`rsi` becomes `rsi(14)`).
 * - `ema(20) crosses above ema(50)` or `cross_above(ema(20), ema(50))`: compare with op crosses_*;
 *   `a crosses b` (either way) is `any` of both directions.
 * - `choch_bullish(1h)`, `in_bullish_ob`: flag (only SMC flag series stand alone as conditions).
 * - `price > 50000`, `price < 30000`, `price crosses above 70000`, `price crosses 70000`: tick
 *   conditions (kind price). They may be combined with `or` only, and never with candle conditions,
 *   because they are evaluated on ticks and candle conditions on candle closes.
 * - Percent moves, inclusive: `move(24, 1h) > 5%` (up at least 5 % over the last 24 closed 1h candles),
 *   `move(24, 1h) < -5%` (down), `abs(move(24, 1h)) > 5%` (either). Without a timeframe the parser's
 *   default timeframe is used.
 * - `macd crosses above signal`: `signal` is the signal line of the MACD on the other side.
 * - `not` is pushed down to the leaves because `AlertCondition` has no negation node: comparisons flip
 *   (`not rsi < 30` is `rsi(14) >= 30`, so both are false during the warm-up), `and`/`or` swap (De Morgan),
 *   a flag becomes `flag < 1`, `price > N` becomes `price < N`; a cross or a move cannot be negated.
 *
 * Left out on purpose: arithmetic (`volume > 2 * volume_sma(20)`; `AlertOperand` is a series or a number,
 * so it has nowhere to go) and portfolio conditions (structured JSON only).
 */
import { isTimeframe } from '../../market/timeframes.js';
import type { Comparison } from '../rules/types.js';
import { MAX_CONDITIONS, MAX_CONDITION_DEPTH } from '../rules/schema.js';
import { MAX_SERIES_PERIOD, parseSeriesRef, type SeriesKind } from '../rules/series.js';
import type { AlertCondition, AlertOperand, TimedSeries } from './types.js';

/** Longest expression accepted (characters). */
export const MAX_EXPRESSION_LENGTH = 2000;

/** A syntax or validation error at a character of the expression. */
export class AlertExpressionError extends Error {
  constructor(
    readonly detail: string,
    /** 0-based character index of the problem. */
    readonly position: number,
    readonly expression: string,
  ) {
    super(`at ${position}: ${detail}`);
    this.name = 'AlertExpressionError';
  }

  /** The expression and a caret under the problem, for display in a monospace block. */
  get caret(): string {
    return `${this.expression}\n${' '.repeat(this.position)}^`;
  }
}

export interface ParseOptions {
  /** Timeframe given to `move(n)` without one; other series keep no timeframe (the alert's default). */
  timeframe?: string;
}

type TokenType = 'num' | 'tf' | 'ident' | 'punct' | 'eof';
interface Token {
  type: TokenType;
  text: string;
  pos: number;
  value: number;
}

const PUNCT = ['>=', '<=', '&&', '||', '>', '<', '(', ')', ',', '%', '-', '!'];

function normaliseTimeframe(text: string): string | null {
  if (isTimeframe(text)) return text;
  const lower = text.endsWith('M') ? text : text.toLowerCase();
  return isTimeframe(lower) ? lower : null;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number): never => {
    throw new AlertExpressionError(message, at, src);
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(ch)) {
      const m = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) fail(`unexpected character ${JSON.stringify(ch)}`, i);
      i += m![0].length;
      const suffix = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (suffix) {
        const tf = normaliseTimeframe(m![0] + suffix[0]);
        if (tf === null) {
          fail(
            `"${m![0]}${suffix[0]}" is neither a number nor a timeframe (1m, 5m, 15m, 1h, 4h, 1d, ...)`,
            start,
          );
        }
        i += suffix[0].length;
        tokens.push({ type: 'tf', text: tf!, pos: start, value: NaN });
      } else {
        tokens.push({ type: 'num', text: m![0], pos: start, value: Number(m![0]) });
      }
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      tokens.push({ type: 'ident', text: m[0], pos: start, value: NaN });
      continue;
    }
    const p = PUNCT.find((s) => src.startsWith(s, i));
    if (p === undefined) fail(`unexpected character ${JSON.stringify(ch)}`, i);
    i += p!.length;
    tokens.push({ type: 'punct', text: p!, pos: start, value: NaN });
  }
  tokens.push({ type: 'eof', text: '', pos: src.length, value: NaN });
  return tokens;
}

/** A parsed condition with where it starts and whether it is a tick (price) condition. */
interface Node {
  cond: AlertCondition;
  pos: number;
  tick: boolean;
}

type Operand =
  | { t: 'num'; value: number; percent: boolean; pos: number }
  | { t: 'series'; ts: TimedSeries; name: string; params: readonly number[]; kind: SeriesKind; pos: number }
  | { t: 'price'; pos: number }
  | { t: 'signal'; pos: number }
  | { t: 'move'; window: number; timeframe: string | undefined; abs: boolean; pos: number };

type Op = Comparison | 'crosses';

const CROSS_FUNCTIONS: Record<string, Comparison> = {
  cross_above: 'crosses_above',
  crosses_above: 'crosses_above',
  cross_below: 'crosses_below',
  crosses_below: 'crosses_below',
};
const RESERVED = new Set(['and', 'or', 'not', 'crosses', 'above', 'below', 'abs', 'move', 'price', 'signal']);

class Parser {
  private k = 0;
  private depth = 0;
  private nodes = 0;

  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
    private readonly options: ParseOptions,
  ) {}

  parse(): AlertCondition {
    const node = this.parseOr();
    if (this.peek().type !== 'eof') this.fail('expected "and", "or" or the end of the expression');
    return node.cond;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.k + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.k++]!;
  }
  private isWord(t: Token, ...words: string[]): boolean {
    return t.type === 'ident' && words.includes(t.text.toLowerCase());
  }
  private isPunct(t: Token, ...ps: string[]): boolean {
    return t.type === 'punct' && ps.includes(t.text);
  }
  private describe(t: Token): string {
    if (t.type === 'eof') return 'the end of the expression';
    if (t.type === 'num') return `number ${t.text}`;
    if (t.type === 'tf') return `timeframe ${t.text}`;
    return JSON.stringify(t.text);
  }
  private error(message: string, at: number): AlertExpressionError {
    return new AlertExpressionError(message, at, this.src);
  }
  /** Fail at the current token, naming it. */
  private fail(expected: string): never {
    const t = this.peek();
    throw this.error(`${expected}, found ${this.describe(t)}`, t.pos);
  }
  private expectPunct(p: string, what = `"${p}"`): Token {
    if (!this.isPunct(this.peek(), p)) this.fail(`expected ${what}`);
    return this.next();
  }
  private enter(at: number): void {
    if (++this.depth > MAX_CONDITION_DEPTH) {
      throw this.error(`conditions nest deeper than ${MAX_CONDITION_DEPTH} levels`, at);
    }
  }
  private count(at: number): void {
    if (++this.nodes > MAX_CONDITIONS) throw this.error(`more than ${MAX_CONDITIONS} conditions`, at);
  }

  private parseOr(): Node {
    return this.chain('any', ['or'], ['||'], () => this.parseAnd());
  }
  private parseAnd(): Node {
    return this.chain('all', ['and'], ['&&'], () => this.parseUnary());
  }

  private chain(kind: 'all' | 'any', words: string[], puncts: string[], sub: () => Node): Node {
    const first = sub();
    const parts = [first];
    while (this.isWord(this.peek(), ...words) || this.isPunct(this.peek(), ...puncts)) {
      this.next();
      parts.push(sub());
    }
    if (parts.length === 1) return first;
    const tick = parts.filter((p) => p.tick);
    if (tick.length > 0 && tick.length < parts.length) {
      const odd = tick.length <= parts.length - tick.length ? tick[0]! : parts.find((p) => !p.tick)!;
      throw this.error(
        'price conditions are checked on ticks and candle conditions on candle closes: they cannot be combined',
        odd.pos,
      );
    }
    if (tick.length > 0 && kind === 'all') {
      throw this.error('price conditions can only be combined with "or"', parts[1]!.pos);
    }
    this.count(first.pos);
    const conditions = parts.flatMap((p) => (p.cond.kind === kind ? p.cond.conditions : [p.cond]));
    return { cond: { kind, conditions }, pos: first.pos, tick: tick.length > 0 };
  }

  private parseUnary(): Node {
    const t = this.peek();
    if (this.isWord(t, 'not') || this.isPunct(t, '!')) {
      this.next();
      this.enter(t.pos);
      const inner = this.parseUnary();
      this.depth--;
      return { ...inner, cond: this.negate(inner.cond, t.pos), pos: t.pos };
    }
    if (this.isPunct(t, '(')) {
      this.next();
      this.enter(t.pos);
      const inner = this.parseOr();
      this.expectPunct(')', '")" or an operator');
      this.depth--;
      return { ...inner, pos: t.pos };
    }
    this.count(t.pos);
    if (t.type === 'ident' && CROSS_FUNCTIONS[t.text.toLowerCase()] && this.isPunct(this.peek(1), '(')) {
      this.next();
      this.next();
      const left = this.parseOperand();
      this.expectPunct(',');
      const right = this.parseOperand();
      this.expectPunct(')');
      return this.comparison(left, CROSS_FUNCTIONS[t.text.toLowerCase()]!, right, t.pos);
    }
    const left = this.parseOperand();
    const opToken = this.peek();
    const op = this.parseComparator();
    if (op === null) {
      if (left.t === 'series' && (left.kind === 'event' || left.kind === 'zone')) {
        return { cond: { kind: 'flag', flag: left.ts }, pos: left.pos, tick: false };
      }
      this.fail('expected a comparison (>, >=, <, <=, crosses above, crosses below)');
    }
    const right = this.parseOperand();
    return this.comparison(left, op!, right, opToken.pos);
  }

  private parseComparator(): Op | null {
    const t = this.peek();
    if (this.isPunct(t, '>', '>=', '<', '<=')) {
      this.next();
      return t.text as Comparison;
    }
    if (this.isWord(t, 'above', 'below')) {
      this.next();
      return t.text.toLowerCase() === 'above' ? '>' : '<';
    }
    if (this.isWord(t, 'crosses_above', 'crosses_below', 'cross_above', 'cross_below')) {
      this.next();
      return CROSS_FUNCTIONS[t.text.toLowerCase()]!;
    }
    if (this.isWord(t, 'crosses', 'cross')) {
      this.next();
      const dir = this.peek();
      if (this.isWord(dir, 'above', 'below')) {
        this.next();
        return dir.text.toLowerCase() === 'above' ? 'crosses_above' : 'crosses_below';
      }
      return 'crosses';
    }
    return null;
  }

  private parseNumber(): number {
    const t = this.peek();
    if (t.type !== 'num') this.fail('expected a number');
    this.next();
    return t.value;
  }

  private parseOperand(): Operand {
    const t = this.peek();
    if (t.type === 'num' || this.isPunct(t, '-')) {
      const negative = this.isPunct(t, '-');
      if (negative) this.next();
      const value = (negative ? -1 : 1) * this.parseNumber();
      const percent = this.isPunct(this.peek(), '%');
      if (percent) this.next();
      return { t: 'num', value, percent, pos: t.pos };
    }
    if (t.type !== 'ident') this.fail('expected a number, a series or "("');
    const word = t.text.toLowerCase();
    const call = this.isPunct(this.peek(1), '(');
    if (word === 'price' && !call) {
      this.next();
      return { t: 'price', pos: t.pos };
    }
    if (word === 'signal' && !call) {
      this.next();
      return { t: 'signal', pos: t.pos };
    }
    if (word === 'abs' && call) {
      this.next();
      this.next();
      const inner = this.parseOperand();
      if (inner.t !== 'move') throw this.error('abs() takes a move(window, timeframe)', inner.pos);
      this.expectPunct(')');
      return { ...inner, abs: true, pos: t.pos };
    }
    if (word === 'move') {
      this.next();
      this.expectPunct('(', '"(" after move: move(window, timeframe)');
      const w = this.peek();
      const window = this.parseNumber();
      if (!Number.isInteger(window) || window < 1 || window > MAX_SERIES_PERIOD) {
        throw this.error(`move window must be an integer from 1 to ${MAX_SERIES_PERIOD}`, w.pos);
      }
      let timeframe: string | undefined;
      if (this.isPunct(this.peek(), ',')) {
        this.next();
        if (this.peek().type !== 'tf') this.fail('expected a timeframe such as 1h');
        timeframe = this.next().text;
      }
      this.expectPunct(')', '"," or ")"');
      return { t: 'move', window, timeframe, abs: false, pos: t.pos };
    }
    if (RESERVED.has(word)) this.fail('expected a number, a series or "("');
    this.next();
    const params: string[] = [];
    let timeframe: string | undefined;
    if (call) {
      this.next();
      while (!this.isPunct(this.peek(), ')')) {
        if (params.length > 0 || timeframe !== undefined) {
          if (timeframe !== undefined) this.fail('expected ")" after the timeframe');
          this.expectPunct(',', '"," or ")"');
        }
        const a = this.peek();
        if (a.type === 'tf') timeframe = this.next().text;
        else if (a.type === 'num') params.push(this.next().text);
        else this.fail('expected a number or a timeframe');
      }
      this.next();
    }
    const ref = params.length > 0 ? `${t.text}(${params.join(',')})` : t.text;
    let parsed;
    try {
      parsed = parseSeriesRef(ref);
    } catch (e) {
      throw this.error((e as Error).message, t.pos);
    }
    const ts: TimedSeries =
      timeframe === undefined ? { series: parsed.key } : { series: parsed.key, timeframe };
    return { t: 'series', ts, name: parsed.name, params: parsed.params, kind: parsed.kind, pos: t.pos };
  }

  private comparison(left: Operand, op: Op, right: Operand, opPos: number): Node {
    if (left.t === 'signal' || right.t === 'signal') [left, right] = this.resolveSignal(left, right);
    if (left.t === 'price' || right.t === 'price') return this.priceCondition(left, op, right, opPos);
    if (left.t === 'move' || right.t === 'move') return this.moveCondition(left, op, right, opPos);
    for (const side of [left, right]) {
      if (side.t === 'num' && side.percent) {
        throw this.error('a percentage only compares with move(...), e.g. move(24, 1h) > 5%', side.pos);
      }
    }
    if (left.t === 'num' && right.t === 'num') {
      throw this.error('both sides are numbers: compare at least one series', left.pos);
    }
    const l = toOperand(left);
    const r = toOperand(right);
    const pos = Math.min(left.pos, opPos);
    if (op === 'crosses') {
      const cond: AlertCondition = {
        kind: 'any',
        conditions: [
          { kind: 'compare', left: l, op: 'crosses_above', right: r },
          { kind: 'compare', left: l, op: 'crosses_below', right: r },
        ],
      };
      return { cond, pos, tick: false };
    }
    return { cond: { kind: 'compare', left: l, op, right: r }, pos, tick: false };
  }

  private resolveSignal(left: Operand, right: Operand): [Operand, Operand] {
    const fix = (signal: Operand, other: Operand): Operand => {
      if (other.t !== 'series' || other.name !== 'macd') {
        throw this.error(
          '"signal" is the MACD signal line: compare it with macd, e.g. macd crosses above signal',
          signal.pos,
        );
      }
      const key = `macd_signal(${other.params.join(',')})`;
      const ts: TimedSeries =
        other.ts.timeframe === undefined ? { series: key } : { series: key, timeframe: other.ts.timeframe };
      return { ...other, ts, name: 'macd_signal', pos: signal.pos };
    };
    if (left.t === 'signal') return [fix(left, right), right];
    return [left, fix(right, left)];
  }

  private priceCondition(left: Operand, op: Op, right: Operand, opPos: number): Node {
    const flipped = left.t !== 'price';
    const level = flipped ? left : right;
    const pos = Math.min(left.pos, opPos);
    if (level.t !== 'num' || level.percent) {
      throw this.error(
        'price (the last traded price) compares with a number, e.g. price > 50000; for candle closes use close',
        level.pos,
      );
    }
    const mirror: Partial<Record<Op, Op>> = { '>': '<', '<': '>' };
    const effective = flipped ? mirror[op] : op;
    const levelValue = level.value;
    switch (effective) {
      case '>':
        return { cond: { kind: 'price', op: 'above', level: levelValue }, pos, tick: true };
      case '<':
        return { cond: { kind: 'price', op: 'below', level: levelValue }, pos, tick: true };
      case 'crosses_above':
      case 'crosses_below':
        return { cond: { kind: 'price', op: effective, level: levelValue }, pos, tick: true };
      case 'crosses':
        if (flipped) break;
        return {
          cond: {
            kind: 'any',
            conditions: [
              { kind: 'price', op: 'crosses_above', level: levelValue },
              { kind: 'price', op: 'crosses_below', level: levelValue },
            ],
          },
          pos,
          tick: true,
        };
    }
    throw this.error(
      'price supports >, <, crosses above, crosses below and crosses, with price on the left',
      opPos,
    );
  }

  private moveCondition(left: Operand, op: Op, right: Operand, opPos: number): Node {
    const flipped = left.t !== 'move';
    const move = (flipped ? right : left) as Extract<Operand, { t: 'move' }>;
    const value = flipped ? left : right;
    const usage =
      'write move(24, 1h) > 5% (up), move(24, 1h) < -5% (down) or abs(move(24, 1h)) > 5% (either)';
    if (value.t !== 'num' || !value.percent)
      throw this.error(`move compares with a percentage: ${usage}`, value.pos);
    const mirror: Partial<Record<Op, Op>> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=' };
    const effective = flipped ? mirror[op] : op;
    const up = effective === '>' || effective === '>=';
    const down = effective === '<' || effective === '<=';
    let direction: 'up' | 'down' | 'either';
    if (move.abs && up && value.value > 0) direction = 'either';
    else if (!move.abs && up && value.value > 0) direction = 'up';
    else if (!move.abs && down && value.value < 0) direction = 'down';
    else throw this.error(usage, opPos);
    const timeframe = move.timeframe ?? this.options.timeframe;
    if (timeframe === undefined) {
      throw this.error('move needs a timeframe here, e.g. move(24, 1h)', move.pos);
    }
    const pct = Math.abs(value.value);
    return {
      cond: { kind: 'move', timeframe, window: move.window, pct, direction },
      pos: Math.min(left.pos, opPos),
      tick: false,
    };
  }

  private negate(cond: AlertCondition, at: number): AlertCondition {
    const cannot = (what: string): never => {
      throw this.error(`"not" cannot negate ${what}; the alert conditions have no negation node`, at);
    };
    switch (cond.kind) {
      case 'compare': {
        const flip: Partial<Record<Comparison, Comparison>> = { '>': '<=', '>=': '<', '<': '>=', '<=': '>' };
        const op = flip[cond.op];
        if (op === undefined) return cannot('a cross (use the opposite cross or a comparison)');
        return { ...cond, op: op! };
      }
      case 'flag':
        return { kind: 'compare', left: cond.flag, op: '<', right: 1 };
      case 'price':
        if (cond.op === 'above') return { ...cond, op: 'below' };
        if (cond.op === 'below') return { ...cond, op: 'above' };
        return cannot('a price cross');
      case 'all':
        return { kind: 'any', conditions: cond.conditions.map((c) => this.negate(c, at)) };
      case 'any':
        return { kind: 'all', conditions: cond.conditions.map((c) => this.negate(c, at)) };
      default:
        return cannot(`a ${cond.kind} condition`);
    }
  }
}

function toOperand(o: Operand): AlertOperand {
  if (o.t === 'num') return o.value;
  if (o.t === 'series') return o.ts;
  // price, move and signal operands are resolved before this point.
  throw new Error(`unexpected operand ${o.t}`);
}

/**
 * Parse an alert expression into an `AlertCondition`.
 *
 * @throws AlertExpressionError with the 0-based `position` of the problem and a `caret` line
 */
export function parseAlertExpression(text: string, options: ParseOptions = {}): AlertCondition {
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new AlertExpressionError(
      `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
      MAX_EXPRESSION_LENGTH,
      text,
    );
  }
  const tokens = tokenize(text);
  if (tokens.length === 1) throw new AlertExpressionError('the expression is empty', 0, text);
  return new Parser(text, tokens, options).parse();
}

const OP_TEXT: Record<Comparison, string> = {
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
  crosses_above: 'crosses above',
  crosses_below: 'crosses below',
};

/** `rsi(14, 1h)`, `close(4h)`, `obv`: the series in expression syntax (canonical when it is valid). */
export function formatSeries(ts: TimedSeries): string {
  let name = ts.series;
  let params: readonly number[] = [];
  try {
    const parsed = parseSeriesRef(ts.series);
    name = parsed.name;
    params = parsed.params;
  } catch {
    // Not a valid reference: print it as given.
  }
  const args = [...params.map(String), ...(ts.timeframe === undefined ? [] : [ts.timeframe])];
  return args.length === 0 ? name : `${name}(${args.join(', ')})`;
}

function formatOperand(o: AlertOperand): string {
  return typeof o === 'number' ? String(o) : formatSeries(o);
}

/** `a crosses b`: the `any` of both crosses of the same operands (or the same price level). */
function eitherCross(cond: Extract<AlertCondition, { kind: 'any' }>): string | null {
  if (cond.conditions.length !== 2) return null;
  const [a, b] = cond.conditions;
  if (a!.kind === 'price' && b!.kind === 'price') {
    return a!.op === 'crosses_above' && b!.op === 'crosses_below' && a!.level === b!.level
      ? `price crosses ${a!.level}`
      : null;
  }
  if (a!.kind !== 'compare' || b!.kind !== 'compare') return null;
  if (a!.op !== 'crosses_above' || b!.op !== 'crosses_below') return null;
  const l = formatOperand(a!.left);
  const r = formatOperand(a!.right);
  return l === formatOperand(b!.left) && r === formatOperand(b!.right) ? `${l} crosses ${r}` : null;
}

/**
 * The canonical expression of a condition: `parseAlertExpression(formatCondition(c))` gives back an
 * equal condition for any condition the parser produces. Portfolio conditions have no expression form and
 * are printed for reading only.
 */
export function formatCondition(cond: AlertCondition): string {
  switch (cond.kind) {
    case 'compare':
      return `${formatOperand(cond.left)} ${OP_TEXT[cond.op]} ${formatOperand(cond.right)}`;
    case 'flag':
      return formatSeries(cond.flag);
    case 'move': {
      const m = `move(${cond.window}, ${cond.timeframe})`;
      if (cond.direction === 'up') return `${m} >= ${cond.pct}%`;
      if (cond.direction === 'down') return `${m} <= -${cond.pct}%`;
      return `abs(${m}) >= ${cond.pct}%`;
    }
    case 'price':
      if (cond.op === 'above') return `price > ${cond.level}`;
      if (cond.op === 'below') return `price < ${cond.level}`;
      return `price ${OP_TEXT[cond.op]} ${cond.level}`;
    case 'portfolio':
      return `portfolio ${JSON.stringify(cond.portfolio_id)} ${cond.metric} > ${cond.above}`;
    case 'all':
      return cond.conditions
        .map((c) =>
          c.kind === 'any' && eitherCross(c) === null ? `(${formatCondition(c)})` : formatCondition(c),
        )
        .join(' and ');
    case 'any':
      return (
        eitherCross(cond) ??
        cond.conditions
          .map((c) => (c.kind === 'all' ? `(${formatCondition(c)})` : formatCondition(c)))
          .join(' or ')
      );
  }
}
