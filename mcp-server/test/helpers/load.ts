/**
 * A steady load of REST tool calls against server replicas, for fault tests: `workersPerTarget` loops per
 * target, each sending one request after the other (with a short pause), every request recorded with the
 * phase it started in, its status (or the network error) and whether it was in flight at a given moment.
 *
 * A target whose `origin` is null is out of rotation (what a load balancer does with a replica it knows is
 * gone): its loops wait instead of sending. Requests already in flight to it are not cancelled.
 */

export interface LoadTarget {
  name: string;
  /** Base URL (http://host:port); null: out of rotation. */
  origin: string | null;
}

export interface LoadRecord {
  id: number;
  target: string;
  phase: string;
  start: number;
  end: number | null;
  /** HTTP status, or null when the request failed on the network. */
  status: number | null;
  /** The REST error code, or the network error's code. */
  error?: string;
}

export interface LoadOptions {
  targets: LoadTarget[];
  apiKey: string;
  /** Path under the origin, e.g. /api/v1/tools/analyze_crypto. */
  path: string;
  /** Request bodies, used in turn. */
  bodies: Record<string, unknown>[];
  /** Default 3. */
  workersPerTarget?: number;
  /** Pause between two requests of one loop. Default 25 ms. */
  pauseMs?: number;
  /** Per-request timeout. Default 20 s. */
  timeoutMs?: number;
}

export interface PhaseSummary {
  requests: number;
  ok: number;
  errors: number;
  /** status (or network error code) -> count, errors only. */
  byError: Record<string, number>;
}

export interface Load {
  readonly records: LoadRecord[];
  /** Label of the requests started from now on. */
  phase(label: string): void;
  /** Requests to `target` started and not finished yet. */
  inFlight(target: string): LoadRecord[];
  /**
   * Starts a request to `target` whose body never ends (the server waits for the rest), recorded like the
   * others: a request certainly in flight until the server goes away or `stop()` aborts it.
   */
  hang(target: string, origin: string): LoadRecord;
  /** Per target (and 'all'), the requests that started in `phase`. */
  summary(phase: string): Record<string, PhaseSummary>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startLoad(options: LoadOptions): Load {
  const records: LoadRecord[] = [];
  const active = new Set<LoadRecord>();
  let phase = 'start';
  let stopped = false;
  let seq = 0;
  let nextBody = 0;
  const hanging = new Set<AbortController>();

  const begin = (target: string): LoadRecord => {
    const record: LoadRecord = { id: ++seq, target, phase, start: Date.now(), end: null, status: null };
    records.push(record);
    active.add(record);
    return record;
  };

  const request = async (
    record: LoadRecord,
    origin: string,
    init: { body: string | ReadableStream<Uint8Array>; duplex?: 'half'; signal: AbortSignal },
  ): Promise<void> => {
    try {
      const res = await fetch(new URL(options.path, origin), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
        ...init,
      });
      const text = await res.text();
      record.status = res.status;
      if (res.status !== 200) {
        try {
          record.error = String((JSON.parse(text) as { error?: unknown }).error ?? res.status);
        } catch {
          record.error = String(res.status);
        }
      }
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; name?: string } };
      record.error = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.cause?.name ?? 'network');
    } finally {
      record.end = Date.now();
      active.delete(record);
    }
  };

  const loop = async (target: LoadTarget): Promise<void> => {
    while (!stopped) {
      const origin = target.origin;
      if (origin === null) {
        await sleep(50);
        continue;
      }
      const body = options.bodies[nextBody++ % options.bodies.length]!;
      await request(begin(target.name), origin, {
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
      });
      await sleep(options.pauseMs ?? 25);
    }
  };

  const loops = options.targets.flatMap((t) =>
    Array.from({ length: options.workersPerTarget ?? 3 }, () => loop(t)),
  );

  return {
    records,
    phase(label) {
      phase = label;
    },
    hang(target, origin) {
      const record = begin(target);
      const abort = new AbortController();
      hanging.add(abort);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"symbol":'));
        },
      });
      void request(record, origin, { body, duplex: 'half', signal: abort.signal }).finally(() =>
        hanging.delete(abort),
      );
      return record;
    },
    inFlight(target) {
      return [...active].filter((r) => r.target === target);
    },
    summary(label) {
      const out: Record<string, PhaseSummary> = {};
      const add = (key: string, r: LoadRecord) => {
        const s = (out[key] ??= { requests: 0, ok: 0, errors: 0, byError: {} });
        s.requests++;
        if (r.status === 200) s.ok++;
        else {
          s.errors++;
          const why = `${r.status ?? 'network'}${r.error ? ` ${r.error}` : ''}`;
          s.byError[why] = (s.byError[why] ?? 0) + 1;
        }
      };
      for (const r of records) {
        if (r.phase !== label || r.end === null) continue;
        add(r.target, r);
        add('all', r);
      }
      return out;
    },
    async stop() {
      stopped = true;
      for (const abort of hanging) abort.abort();
      await Promise.all(loops);
    },
  };
}
