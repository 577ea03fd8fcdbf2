/**
 * Alert expression language (parsing, precedence, errors, round trips, hostile input), the JSON
 * condition schema and message rendering.
 */
import { describe, expect, it } from 'vitest';
import {
  AlertExpressionError,
  MAX_MESSAGE_LENGTH,
  alertConditionSchema,
  formatCondition,
  parseAlertExpression,
  renderMessage,
  type AlertCondition,
  type MessageContext,
} from '../../src/core/alerts/index.js';

const parse = (s: string) => parseAlertExpression(s, { timeframe: '1h' });
const errorOf = (s: string): AlertExpressionError => {
  try {
    parse(s);
  } catch (e) {
    expect(e).toBeInstanceOf(AlertExpressionError);
    return e as AlertExpressionError;
  }
  throw new Error(`expected ${JSON.stringify(s)} to fail`);
};
const cmp = (left: unknown, op: string, right: unknown) => ({ kind: 'compare', left, op, right });
const s = (series: string, timeframe?: string) => (timeframe ? { series, timeframe } : { series });

describe('parseAlertExpression', () => {
  it('parses comparisons of series with timeframes, defaults and canonical keys', () => {
    expect(parse('close(4h) > 70000')).toEqual(cmp(s('close', '4h'), '>', 70000));
    expect(parse('rsi(14, 1h) < 30')).toEqual(cmp(s('rsi(14)', '1h'), '<', 30));
    expect(parse('ema(20) >= ema(50)')).toEqual(cmp(s('ema(20)'), '>=', s('ema(50)')));
    expect(parse('ema(20, 15m) <= 100.5')).toEqual(cmp(s('ema(20)', '15m'), '<=', 100.5));
    expect(parse('rsi(1h) > rsi')).toEqual(cmp(s('rsi(14)', '1h'), '>', s('rsi(14)')));
    expect(parse('RSI <= 25')).toEqual(cmp(s('rsi(14)'), '<=', 25));
    expect(parse('bb_lower(20, 2.5, 1d) > close(1d)')).toEqual(
      cmp(s('bb_lower(20,2.5)', '1d'), '>', s('close', '1d')),
    );
    expect(parse('30 > rsi(1h)')).toEqual(cmp(30, '>', s('rsi(14)', '1h')));
    expect(parse('macd_hist(1M) > -0.5')).toEqual(cmp(s('macd_hist(12,26,9)', '1M'), '>', -0.5));
  });

  it('parses crosses as functions, aliases and infix words', () => {
    const up = cmp(s('ema(20)'), 'crosses_above', s('ema(50)'));
    expect(parse('cross_above(ema(20), ema(50))')).toEqual(up);
    expect(parse('crosses_above(ema(20), ema(50))')).toEqual(up);
    expect(parse('ema(20) crosses above ema(50)')).toEqual(up);
    expect(parse('ema(20) crosses_above ema(50)')).toEqual(up);
    expect(parse('cross_below(close(4h), 70000)')).toEqual(cmp(s('close', '4h'), 'crosses_below', 70000));
    expect(parse('ema(20) crosses ema(50)')).toEqual({
      kind: 'any',
      conditions: [up, cmp(s('ema(20)'), 'crosses_below', s('ema(50)'))],
    });
  });

  it('parses flags, moves and price conditions', () => {
    expect(parse('choch_bullish(1h)')).toEqual({ kind: 'flag', flag: s('choch_bullish(5)', '1h') });
    expect(parse('in_bullish_ob')).toEqual({ kind: 'flag', flag: s('in_bullish_ob(5)') });
    expect(parse('in_bullish_fvg(4h)')).toEqual({ kind: 'flag', flag: s('in_bullish_fvg', '4h') });
    expect(parse('move(24, 4h) > 5%')).toEqual({
      kind: 'move',
      timeframe: '4h',
      window: 24,
      pct: 5,
      direction: 'up',
    });
    expect(parse('move(24) < -3.5%')).toEqual({
      kind: 'move',
      timeframe: '1h',
      window: 24,
      pct: 3.5,
      direction: 'down',
    });
    expect(parse('abs(move(6, 1d)) >= 10%')).toEqual({
      kind: 'move',
      timeframe: '1d',
      window: 6,
      pct: 10,
      direction: 'either',
    });
    expect(parse('price > 50000')).toEqual({ kind: 'price', op: 'above', level: 50000 });
    expect(parse('50000 < price')).toEqual({ kind: 'price', op: 'above', level: 50000 });
    expect(parse('price crosses above 70000')).toEqual({ kind: 'price', op: 'crosses_above', level: 70000 });
    expect(parse('price crosses 70000')).toEqual({
      kind: 'any',
      conditions: [
        { kind: 'price', op: 'crosses_above', level: 70000 },
        { kind: 'price', op: 'crosses_below', level: 70000 },
      ],
    });
    expect(parse('price > 80000 or price < 30000')).toMatchObject({ kind: 'any' });
  });

  it('accepts the original free-text conditions', () => {
    expect(parse('price > 50000')).toEqual({ kind: 'price', op: 'above', level: 50000 });
    expect(parse('price < 30000')).toEqual({ kind: 'price', op: 'below', level: 30000 });
    expect(parse('rsi < 30')).toEqual(cmp(s('rsi(14)'), '<', 30));
    expect(parse('rsi > 70')).toEqual(cmp(s('rsi(14)'), '>', 70));
    expect(parse('macd crosses above signal')).toEqual(
      cmp(s('macd(12,26,9)'), 'crosses_above', s('macd_signal(12,26,9)')),
    );
    expect(parse('macd(8, 21, 5, 4h) crosses below signal')).toEqual(
      cmp(s('macd(8,21,5)', '4h'), 'crosses_below', s('macd_signal(8,21,5)', '4h')),
    );
    expect(parse('price above 50000')).toEqual(parse('price > 50000'));
  });

  it('gives not > and > or, with parentheses and symbol operators', () => {
    const a = cmp(s('rsi(14)'), '<', 30);
    const b = cmp(s('close'), '>', 100);
    const c = cmp(s('ema(20)'), '>', s('ema(50)'));
    expect(parse('rsi < 30 or close > 100 and ema(20) > ema(50)')).toEqual({
      kind: 'any',
      conditions: [a, { kind: 'all', conditions: [b, c] }],
    });
    expect(parse('(rsi < 30 or close > 100) and ema(20) > ema(50)')).toEqual({
      kind: 'all',
      conditions: [{ kind: 'any', conditions: [a, b] }, c],
    });
    expect(parse('rsi < 30 || close > 100 && ema(20) > ema(50)')).toEqual(
      parse('rsi < 30 or (close > 100 and ema(20) > ema(50))'),
    );
    expect(parse('rsi < 30 and close > 100 and ema(20) > ema(50)')).toEqual({
      kind: 'all',
      conditions: [a, b, c],
    });
    // not binds tighter than and; it is pushed to the leaves (De Morgan, flipped comparisons).
    expect(parse('not rsi < 30 and close > 100')).toEqual({
      kind: 'all',
      conditions: [cmp(s('rsi(14)'), '>=', 30), b],
    });
    expect(parse('not (rsi < 30 or close > 100)')).toEqual({
      kind: 'all',
      conditions: [cmp(s('rsi(14)'), '>=', 30), cmp(s('close'), '<=', 100)],
    });
    expect(parse('!!(rsi < 30)')).toEqual(a);
    expect(parse('not choch_bullish')).toEqual(cmp(s('choch_bullish(5)'), '<', 1));
    expect(parse('not price > 5')).toEqual({ kind: 'price', op: 'below', level: 5 });
  });

  it('round-trips through formatCondition', () => {
    const forms = [
      'close(4h) > 70000',
      'rsi(14, 1h) < 30 and close(4h) > 70000',
      'ema(20) crosses above ema(50) or rsi < 25 and choch_bullish(1h)',
      '(rsi < 30 or close > 100) and not ema(20) > ema(50)',
      'macd crosses above signal',
      'ema(20) crosses ema(50) and in_bullish_ob(4h)',
      'price crosses 70000',
      'price > 80000 or price < 30000 or price crosses below 1e-7',
      'move(24, 4h) > 5% and abs(move(6)) > 2.5% or move(3, 1d) < -1%',
      'not choch_bullish and bb_upper(20, 2.5) > close',
    ];
    for (const f of forms) {
      const c = parse(f);
      const text = formatCondition(c);
      expect(parse(text), `${f} -> ${text}`).toEqual(c);
      expect(formatCondition(parse(text))).toBe(text);
    }
    expect(formatCondition(parse('rsi(14,1h)<30 && CLOSE(4h)>70000'))).toBe(
      'rsi(14, 1h) < 30 and close(4h) > 70000',
    );
    expect(formatCondition(parse('a_flag_free or rsi < 1'.replace('a_flag_free', 'choch_bearish(3)')))).toBe(
      'choch_bearish(3) or rsi(14) < 1',
    );
  });

  it('reports precise positions and what was expected', () => {
    const e = errorOf('rsi(14, 1h) < )');
    expect(e.position).toBe(14);
    expect(e.message).toBe('at 14: expected a number, a series or "(", found ")"');
    expect(e.caret).toBe('rsi(14, 1h) < )\n              ^');
    expect(errorOf('rsi < 30 and').message).toBe(
      'at 12: expected a number, a series or "(", found the end of the expression',
    );
    expect(errorOf('emaa(20) > 5')).toMatchObject({ position: 0 });
    expect(errorOf('emaa(20) > 5').message).toMatch(/^at 0: unknown series "emaa\(20\)"; accepted: open/);
    expect(errorOf('close > ema(0)')).toMatchObject({ position: 8 });
    expect(errorOf('close > ema(0)').message).toMatch(/n must be an integer from 1/);
    expect(errorOf('rsi(14, 2h, 3) > 1').position).toBe(10);
    expect(errorOf('rsi(14, 7h) > 1').message).toMatch(/^at 8: "7h" is neither a number nor a timeframe/);
    expect(errorOf('(rsi < 30').message).toBe(
      'at 9: expected ")" or an operator, found the end of the expression',
    );
    expect(errorOf('rsi 30').message).toBe(
      'at 4: expected a comparison (>, >=, <, <=, crosses above, crosses below), found number 30',
    );
    expect(errorOf('rsi < 30 close > 5').position).toBe(9);
    expect(errorOf('1 > 2').message).toMatch(/both sides are numbers/);
    expect(errorOf('rsi > 70%').position).toBe(6);
    expect(errorOf('move(24, 1h) > 5').position).toBe(15);
    expect(errorOf('move(24, 1h) > -5%').message).toMatch(/move\(24, 1h\) > 5% \(up\)/);
    expect(parseAlertExpression.bind(null, 'move(24) > 5%')).toThrow(/move needs a timeframe/);
    expect(errorOf('price > close').position).toBe(8);
    expect(errorOf('price >= 5').position).toBe(6);
    expect(errorOf('rsi < 30 and price > 5').position).toBe(13);
    expect(errorOf('price > 5 and price < 10').message).toMatch(/only be combined with "or"/);
    expect(errorOf('not ema(20) crosses above ema(50)').position).toBe(0);
    expect(errorOf('signal > 1').message).toMatch(/MACD signal line/);
    expect(errorOf('').message).toBe('at 0: the expression is empty');
    expect(errorOf('rsi < 30 $').position).toBe(9);
    expect(errorOf('((((((((((rsi < 30))))))))))').message).toMatch(/deeper than 8/);
    expect(errorOf(Array.from({ length: 60 }, () => 'rsi < 30').join(' or ')).message).toMatch(
      /more than 50/,
    );
    expect(errorOf('x'.repeat(3000)).message).toMatch(/longer than 2000/);
  });

  it('never executes hostile input', () => {
    const marker = globalThis as { pwned?: boolean };
    for (const hostile of [
      'constructor.constructor("globalThis.pwned = true")()',
      '__proto__',
      '__proto__ > 1',
      'constructor > 1',
      'toString(1h) > 1',
      'hasOwnProperty',
      'process.exit(1)',
      '`${1}`',
      'rsi < 30; globalThis.pwned = true',
      'valueOf() > 0',
    ]) {
      expect(() => parse(hostile)).toThrow(AlertExpressionError);
    }
    expect(marker.pwned).toBeUndefined();
    expect(errorOf('constructor.constructor("x")()').position).toBe(11);
  });
});

describe('alertConditionSchema', () => {
  const issues = (value: unknown): string[] => {
    const r = alertConditionSchema.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts what the parser produces', () => {
    for (const f of [
      'close(4h) > 70000 and rsi(14, 1h) < 30',
      'ema(20) crosses ema(50) or choch_bullish(1h)',
      'move(24, 4h) > 5%',
      'price crosses 70000',
    ]) {
      const c = parse(f);
      expect(alertConditionSchema.parse(c)).toEqual(c);
    }
    const portfolio: AlertCondition = {
      kind: 'portfolio',
      portfolio_id: 'p1',
      metric: 'drawdown_pct',
      above: 10,
    };
    expect(alertConditionSchema.parse(portfolio)).toEqual(portfolio);
  });

  it('says what to fix, with paths', () => {
    expect(issues({ kind: 'compare', left: { series: 'emaa(20)' }, op: '>', right: 5 })[0]).toMatch(
      /^left\.series: unknown series "emaa\(20\)"; accepted:/,
    );
    expect(issues({ kind: 'compare', left: { series: 'rsi', timeframe: '7h' }, op: '=>', right: 5 })).toEqual(
      [
        'left.timeframe: timeframe must be one of 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M; got "7h"',
        'op: "op" must be one of >, >=, <, <=, crosses_above, crosses_below; got "=>"',
      ],
    );
    expect(issues({ kind: 'flag', flag: { series: 'rsi(14)' } })[0]).toMatch(
      /^flag\.series: "rsi\(14\)" is not a flag series/,
    );
    expect(issues({ kind: 'move', timeframe: '1h', window: 0, pct: 5, direction: 'sideways' })).toEqual([
      'window: "window" must be an integer from 1 to 10000; got 0',
      'direction: "direction" must be one of up, down, either; got "sideways"',
    ]);
    expect(issues({ kind: 'price', op: 'above', level: -1 })[0]).toMatch(/^level: "level" must be a number/);
    expect(issues({ kind: 'nope' })).toEqual([
      'kind: "kind" must be one of compare, flag, move, price, portfolio, all, any; got "nope"',
    ]);
    expect(issues({ kind: 'all', conditions: [] })).toEqual([
      'conditions: "all" needs a non-empty array "conditions"',
    ]);
    expect(issues({ kind: 'compare', left: 1, op: '>', right: 2, extra: 1 })).toEqual([
      ': unknown key "extra" in a compare condition; it takes left, op, right',
      ': both sides are numbers: compare at least one series',
    ]);
    expect(
      issues({
        kind: 'any',
        conditions: [
          { kind: 'price', op: 'above', level: 5 },
          { kind: 'compare', left: { series: 'rsi' }, op: '<', right: 30 },
        ],
      })[0],
    ).toMatch(/cannot be combined/);
    expect(issues({ kind: 'all', conditions: [{ kind: 'price', op: 'above', level: 5 }] })[0]).toMatch(
      /with "any"/,
    );
    let deep: unknown = { kind: 'price', op: 'above', level: 5 };
    for (let i = 0; i < 100_000; i++) deep = { kind: 'any', conditions: [deep] };
    expect(issues(deep)[0]).toMatch(/deeper than 8 levels/);
    const wide = {
      kind: 'any',
      conditions: Array.from({ length: 80 }, () => ({ kind: 'price', op: 'above', level: 5 })),
    };
    expect(issues(wide)).toContain('conditions.49: more than 50 conditions');
  });
});

describe('renderMessage', () => {
  const ctx: MessageContext = {
    alert_id: 'a1',
    symbol: 'BTC/USDT',
    timeframe: '4h',
    price: 70250.5,
    condition: 'close(4h) > 70000',
    summary: '4h close 70,250.50 > 70,000',
    at: Date.UTC(2026, 10, 21, 12),
    values: { 'close(4h)': 70250.5, price: 70250.5, 'rsi(14,1h)': 28.4 },
  };

  it('renders the default text with values', () => {
    expect(renderMessage(null, ctx)).toBe(
      'BTC/USDT 4h close 70,250.50 > 70,000 (alert "close(4h) > 70000") at 2026-11-21 12:00 UTC. Reply STOP to stop alerts.',
    );
  });

  it('substitutes placeholders, keeps unknown ones visible and strips control characters', () => {
    expect(
      renderMessage('{symbol} at {price}: RSI {rsi(14,1h)} {nope} {time} <b>{alert_id}</b>\u0007', ctx),
    ).toBe('BTC/USDT at 70,250.50: RSI 28.40 {nope} 2026-11-21 12:00 UTC <b>a1</b>');
    expect(renderMessage('{constructor} {__proto__} {toString}', ctx)).toBe(
      '{constructor} {__proto__} {toString}',
    );
  });

  it('caps the body at 1,600 characters with an ellipsis', () => {
    const long = renderMessage('x'.repeat(5000), ctx);
    expect(long.length).toBe(MAX_MESSAGE_LENGTH);
    expect(long.endsWith('…')).toBe(true);
    const emoji = renderMessage('😀'.repeat(1000), ctx);
    expect(emoji.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(emoji.endsWith('😀…')).toBe(true);
  });
});
