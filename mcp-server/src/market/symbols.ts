/**
 * User symbol forms ('BTCUSDT', 'btc-usdt', 'BTC_USDT', 'BTC:USDT', 'BTC/USDT:USDT') to the unified ccxt
 * spot form 'BTC/USDT', plus "did you mean" suggestions.
 */

/** Quote currencies recognised in separator-less symbols, tried longest first so 'BTCFDUSD' is BTC/FDUSD. */
const KNOWN_QUOTES = [
  'USDT',
  'USDC',
  'FDUSD',
  'BUSD',
  'TUSD',
  'USDP',
  'DAI',
  'BTC',
  'ETH',
  'BNB',
  'EUR',
  'TRY',
  'BRL',
  'GBP',
  'AUD',
  'JPY',
  'USD',
].sort((a, b) => b.length - a.length);

const SEPARATORS = /[\s/_:-]+/;

/** Upper case without separators: the form in which 'btc-usdt', 'BTC/USDT' and 'BTCUSDT' are equal. */
export function compactSymbol(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/**
 * Best-effort unified form of `input` without a market list: 'BASE/QUOTE', or undefined when a
 * separator-less symbol does not end in a known quote currency. 'BTC/USDT:USDT' (a ccxt linear-perpetual
 * symbol) maps to the spot pair because this layer serves spot markets only.
 */
export function normalizeSymbol(input: string): string | undefined {
  const parts = input.trim().toUpperCase().split(SEPARATORS).filter(Boolean);
  if (parts.length === 2 || (parts.length === 3 && parts[2] === parts[1])) return `${parts[0]}/${parts[1]}`;
  if (parts.length !== 1) return undefined;
  const s = parts[0]!;
  const quote = KNOWN_QUOTES.find((q) => s.length > q.length && s.endsWith(q));
  return quote === undefined ? undefined : `${s.slice(0, -quote.length)}/${quote}`;
}

/**
 * The symbol in `known` (unified form) that `input` denotes, or undefined. The market list decides how
 * to split separator-less input, so quotes missing from KNOWN_QUOTES still resolve.
 */
export function resolveSymbol(input: string, known: ReadonlySet<string>): string | undefined {
  const guess = normalizeSymbol(input);
  if (guess !== undefined && known.has(guess)) return guess;
  const compact = compactSymbol(input);
  if (compact === '') return undefined;
  for (const symbol of known) if (compactSymbol(symbol) === compact) return symbol;
  return undefined;
}

/**
 * Up to `n` entries of `known` that look like `input` (symbols or exchange ids), nearest first: same
 * base currency, prefix matches (either way round) or an edit distance of at most a third of the length.
 */
export function closeMatches(input: string, known: Iterable<string>, n = 5): string[] {
  const target = compactSymbol(input);
  if (target === '') return [];
  const base = normalizeSymbol(input)?.split('/')[0];
  const maxDistance = Math.max(1, Math.floor(target.length / 3));
  const matches: Array<{ candidate: string; distance: number }> = [];
  for (const candidate of known) {
    const c = compactSymbol(candidate);
    const distance = editDistance(target, c);
    const related =
      c.startsWith(target) ||
      target.startsWith(c) ||
      (base !== undefined && candidate.startsWith(`${base}/`));
    if (related || distance <= maxDistance) matches.push({ candidate, distance });
  }
  matches.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
  return matches.slice(0, n).map((m) => m.candidate);
}

/** Levenshtein distance (insertions, deletions, substitutions), two-row dynamic programme. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
