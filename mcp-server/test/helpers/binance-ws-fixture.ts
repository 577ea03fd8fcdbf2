/**
 * A local WebSocket server speaking enough of Binance's spot market streams for ccxt.pro's binance client:
 * SUBSCRIBE / UNSUBSCRIBE requests on raw streams (`btcusdt@kline_1h`, `btcusdt@ticker`,
 * `btcusdt@miniTicker`), answered `{"result":null,"id":N}`, and events the test pushes, sent to the
 * connections subscribed to their stream. Listens on 127.0.0.1 only.
 *
 *   const ws = await startBinanceWsFixture();
 *   new WebSocketFeed({ market, wsUrl: ws.url, restBaseUrl: fx.baseUrl });  // fx: startFixtureExchange()
 *
 * ccxt.pro loads the market list over REST first: point it at `startFixtureExchange()`. `url` contains
 * '/stream', which ccxt's binance needs to take the stream for spot.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** The part of the `ws` package used here (it ships no types, and no @types/ws is installed). */
interface WsSocket {
  readonly readyState: number;
  send(data: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close', listener: () => void): void;
}
interface WsServer {
  on(event: 'connection', listener: (socket: WsSocket, request: IncomingMessage) => void): void;
  close(callback?: () => void): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as {
  WebSocketServer: new (options: { server: ReturnType<typeof createServer> }) => WsServer;
};

const OPEN = 1;

export interface KlinePush {
  /** Exchange id, e.g. 'BTCUSDT'. Default 'BTCUSDT'. */
  symbol?: string;
  /** Binance interval, e.g. '1m', '1h'. */
  interval: string;
  /** Open time (ms). */
  open: number;
  /** Close time (ms): Binance sends open + interval - 1. */
  closeTime: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v?: number;
  /** Binance's "is this kline closed" flag. Default false. */
  closed?: boolean;
}

export interface BinanceWsFixture {
  /** e.g. ws://127.0.0.1:41234/stream/ws (ccxt appends '/<stream index>'). */
  url: string;
  /** Open connections. */
  connections(): number;
  /** Streams subscribed by the open connections. */
  streams(): string[];
  /** Every request received (parsed JSON), oldest first. */
  requests: unknown[];
  /** Resolves once an open connection subscribes `stream` (e.g. 'btcusdt@kline_1h'). */
  waitForStream(stream: string, timeoutMs?: number): Promise<void>;
  /** Send a kline event to the connections subscribed to it; returns how many got it. */
  push(kline: KlinePush): number;
  /** Send a ticker event (24hrTicker or 24hrMiniTicker, as subscribed); returns how many got it. */
  pushTicker(price: number, options?: { symbol?: string; time?: number }): number;
  /** Cut every connection (as a network failure would). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startBinanceWsFixture(options: { port?: number } = {}): Promise<BinanceWsFixture> {
  const http = createServer((_req, res) => {
    res.writeHead(426);
    res.end();
  });
  const wss = new WebSocketServer({ server: http });
  const subscribed = new Map<WsSocket, Set<string>>();
  const requests: unknown[] = [];
  const waiters: Array<{ stream: string; resolve: () => void }> = [];

  const notify = () => {
    for (const w of [...waiters]) {
      if ([...subscribed.values()].some((s) => s.has(w.stream))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  wss.on('connection', (socket) => {
    subscribed.set(socket, new Set());
    socket.on('close', () => subscribed.delete(socket));
    socket.on('message', (data) => {
      let msg: { method?: unknown; params?: unknown; id?: unknown };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        socket.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' } }));
        return;
      }
      requests.push(msg);
      const streams = Array.isArray(msg.params) ? msg.params.filter((p) => typeof p === 'string') : [];
      const set = subscribed.get(socket);
      if (msg.method === 'SUBSCRIBE') for (const s of streams) set?.add(s);
      else if (msg.method === 'UNSUBSCRIBE') for (const s of streams) set?.delete(s);
      socket.send(JSON.stringify({ result: null, id: msg.id }));
      notify();
    });
  });

  const send = (stream: string, event: unknown): number => {
    let n = 0;
    for (const [socket, streams] of subscribed) {
      if (!streams.has(stream) || socket.readyState !== OPEN) continue;
      socket.send(JSON.stringify(event));
      n++;
    }
    return n;
  };

  await new Promise<void>((ready) => http.listen(options.port ?? 0, '127.0.0.1', ready));
  const port = (http.address() as AddressInfo).port;

  return {
    url: `ws://127.0.0.1:${port}/stream/ws`,
    connections: () => subscribed.size,
    streams: () => [...new Set([...subscribed.values()].flatMap((s) => [...s]))],
    requests,
    waitForStream: (stream, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no subscription to ${stream}`)), timeoutMs);
        waiters.push({
          stream,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        notify();
      }),
    push: (k) => {
      const symbol = k.symbol ?? 'BTCUSDT';
      return send(`${symbol.toLowerCase()}@kline_${k.interval}`, {
        e: 'kline',
        E: k.closeTime,
        s: symbol,
        k: {
          t: k.open,
          T: k.closeTime,
          s: symbol,
          i: k.interval,
          f: 0,
          L: 0,
          o: String(k.o),
          c: String(k.c),
          h: String(k.h),
          l: String(k.l),
          v: String(k.v ?? 1),
          n: 1,
          x: k.closed ?? false,
          q: String((k.v ?? 1) * k.c),
          V: '0',
          Q: '0',
          B: '0',
        },
      });
    },
    pushTicker: (price, opts = {}) => {
      const symbol = opts.symbol ?? 'BTCUSDT';
      const time = opts.time ?? Date.now();
      const id = symbol.toLowerCase();
      const p = String(price);
      const full = {
        e: '24hrTicker',
        E: time,
        s: symbol,
        p: '0',
        P: '0',
        w: p,
        x: p,
        c: p,
        Q: '0',
        b: p,
        B: '0',
        a: p,
        A: '0',
        o: p,
        h: p,
        l: p,
        v: '0',
        q: '0',
        O: time - 86_400_000,
        C: time,
        F: 0,
        L: 0,
        n: 0,
      };
      const mini = { e: '24hrMiniTicker', E: time, s: symbol, c: p, o: p, h: p, l: p, v: '0', q: '0' };
      return send(`${id}@ticker`, full) + send(`${id}@miniTicker`, mini);
    },
    dropConnections: () => {
      for (const socket of subscribed.keys()) socket.terminate();
    },
    close: () =>
      new Promise<void>((done) => {
        for (const socket of subscribed.keys()) socket.terminate();
        wss.close(() => http.close(() => done()));
        http.closeAllConnections();
      }),
  };
}
