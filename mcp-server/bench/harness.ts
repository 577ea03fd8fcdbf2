/**
 * Tiny benchmark harness: warm up, then time `iterations` calls and report per-call statistics.
 * Peers are measured in the same process and run, so the printed ratios compare like with like.
 */
export interface Timing {
  name: string;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  iterations: number;
}

export function time(name: string, fn: () => unknown, iterations = 30, warmup = 5): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return summarize(name, samples);
}

export async function timeAsync(
  name: string,
  fn: () => Promise<unknown>,
  iterations = 200,
  warmup = 20,
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return summarize(name, samples);
}

export function summarize(name: string, samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return {
    name,
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    iterations: s.length,
  };
}

export const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

export const benchDataPath = (name: string): string => new URL(`./data/${name}`, import.meta.url).pathname;
