/**
 * The node package in a real n8n (2.41.1 on Node 24, tests/n8n-harness), the way a user runs it: the
 * packed tarball installed into the user folder's `.n8n/nodes`, credentials and the shipped workflows
 * from workflows/ imported with n8n's CLI, the real server on the offline snapshot, and Twilio replaced
 * by a local stub through the credential's base URL (the one part that cannot run here).
 *
 * 1. the scheduled scan: activated, `n8n start` polls at once; each setup >= 75 reaches WhatsApp once;
 * 2. the morning portfolio report: `n8n execute` through its manual trigger;
 * 3. the alert webhook: the server fires a real alert at n8n's webhook, signed; n8n verifies it,
 *    enriches it with analyze_crypto and sends it; a forged call is dropped.
 *
 * Without the harness the suite is skipped with a notice, except in CI where it must run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../mcp-server/test/helpers/server-process.js';
import { startTwilioStub, type TwilioStub } from '../mcp-server/test/helpers/twilio-stub.js';
import { createN8n, n8nAvailable, packNodePackage, type N8n } from './helpers/n8n-runtime.js';

if (!n8nAvailable && process.env.CI) {
  throw new Error('n8n harness missing: run `bash tests/n8n-harness/install.sh`');
}
if (!n8nAvailable) {
  console.warn('Skipping the n8n end-to-end test: run `bash tests/n8n-harness/install.sh` to enable it.');
}

const WORKFLOWS = new URL('../workflows/', import.meta.url).pathname;
const KEY = `n8n-e2e-${randomBytes(12).toString('hex')}`;
const SIGNING_SECRET = randomBytes(24).toString('hex');
/** The placeholder recipient the shipped workflows carry (a reserved fictional number). */
const RECIPIENT = '+15555550100';
const FROM = '+14155238886';

type Json = Record<string, unknown>;

function workflow(file: string): Json {
  return JSON.parse(readFileSync(join(WORKFLOWS, file), 'utf8')) as Json;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!n8nAvailable)('the node package in a real n8n', () => {
  let stub: TwilioStub;
  let server: ServerProcess;
  let n8n: N8n;
  let packDir: string;

  const rest = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${server.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Json;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const bodies = () => stub.sentTo(RECIPIENT).map((m) => m.body);

  beforeAll(async () => {
    stub = await startTwilioStub();
    server = await startServer({
      DATABASE_URL: '',
      DATA_DIR: 'memory',
      MCP_API_KEYS: KEY,
      WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
      // n8n listens on loopback here; production webhooks go to public hosts.
      ALERT_WEBHOOK_ALLOW_PRIVATE: 'true',
      // Tool calls are logged at debug: the test sees when n8n's trigger has polled.
      LOG_LEVEL: 'debug',
    });
    packDir = mkdtempSync(join(tmpdir(), 'n8n-pack-'));
    n8n = await createN8n(await packNodePackage(packDir));

    await n8n.importJson('credentials', [
      {
        id: 'cryptoMcpApiCred1',
        name: 'Crypto MCP API',
        type: 'cryptoMcpApi',
        data: { baseUrl: server.origin, apiKey: KEY },
      },
      {
        id: 'twilioWhatsAppCred1',
        name: 'Twilio WhatsApp',
        type: 'twilioWhatsAppApi',
        data: {
          accountSid: stub.accountSid,
          authType: 'authToken',
          authToken: stub.authToken,
          whatsappFrom: FROM,
          baseUrl: stub.url,
        },
      },
      {
        id: 'cryptoAlertSecret1',
        name: 'Crypto MCP webhook secret',
        type: 'crypto',
        data: { hmacSecret: SIGNING_SECRET },
      },
    ]);
    for (const file of readdirSync(WORKFLOWS).filter((f) => f.endsWith('.json'))) {
      await n8n.importJson('workflow', workflow(file));
    }
  }, 300_000);

  afterAll(async () => {
    await n8n?.stop();
    await server?.stop();
    await stub?.close();
    if (n8n) rmSync(n8n.userFolder, { recursive: true, force: true });
    if (packDir) rmSync(packDir, { recursive: true, force: true });
  });

  it('loads the package as a community install: three nodes, the AI tool twin, two credentials', async () => {
    const file = join(n8n.userFolder, 'nodes.json');
    await n8n.cli(['export:nodes', `--output=${file}`]);
    const names = (JSON.parse(readFileSync(file, 'utf8')) as { name: string }[]).map((n) => n.name);
    for (const name of ['cryptoAnalysis', 'cryptoAnalysisTool', 'cryptoScanTrigger', 'whatsAppAlert']) {
      expect(names).toContain(`n8n-nodes-crypto-intel.${name}`);
    }
  });

  it('workflow 2: the morning portfolio report reaches WhatsApp', async () => {
    // The portfolio the workflow reports on, stored under the same API key as the n8n credential.
    await rest('POST', '/api/v1/tools/monitor_portfolio', {
      portfolio_id: 'main',
      positions: [
        { symbol: 'BTCUSDT', quantity: 0.5, entry_price: 60000 },
        { symbol: 'ETHUSDT', quantity: 4, entry_price: 2500 },
      ],
    });
    const before = stub.messages.length;
    const { code, run, output } = await n8n.execute('cryptoPortfolioDaily');
    expect(code, output.slice(-3000)).toBe(0);
    const sent = run!.data.resultData.runData['Send to WhatsApp']![0]!.data!.main[0]!;
    expect(sent).toHaveLength(1);
    expect(sent[0]!.json).toMatchObject({ status: 'queued', to: `whatsapp:${RECIPIENT}` });

    const messages = stub.messages.slice(before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.from).toBe(`whatsapp:${FROM}`);
    expect(messages[0]!.sid).toBe(sent[0]!.json.sid);
    const body = messages[0]!.body;
    expect(body).toMatch(/portfolio/i);
    expect(body).toMatch(/BTC/);
    expect(body).toMatch(/ETH/);
    expect(body).toMatch(/offline/i);
    expect(body).toMatch(/not financial advice/i);
  });

  describe('with n8n running (triggers and webhooks)', () => {
    let scanExpected: { symbol: string }[];

    beforeAll(async () => {
      // What the trigger should find: the same scan through the REST API, filtered the same way.
      const scan = await rest('POST', '/api/v1/tools/market_scanner', { scan_type: 'all', timeframe: '1h' });
      scanExpected = (scan.hits as { symbol: string; strength: number }[]).filter((h) => h.strength >= 75);
      for (const id of ['cryptoScanToWhatsApp', 'cryptoAlertWebhook']) {
        await n8n.cli(['publish:workflow', `--id=${id}`]);
      }
      await n8n.start();
    }, 300_000);

    it('workflow 1: each setup with confidence >= 75 reaches WhatsApp once', async () => {
      expect(scanExpected.length).toBeGreaterThan(0);
      const isScan = (b: string) => scanExpected.some((h) => b.includes(h.symbol.split('/')[0]!));
      const sent = await until(
        'the scan messages',
        () => {
          const got = bodies().filter((b) => !/portfolio/i.test(b) && isScan(b));
          return got.length >= scanExpected.length && got;
        },
        120_000,
      );
      expect(sent).toHaveLength(scanExpected.length);
      for (const hit of scanExpected) {
        expect(sent.filter((b) => b.includes(hit.symbol.split('/')[0]!)).length).toBeGreaterThan(0);
      }
      for (const b of sent) expect(b.length).toBeLessThanOrEqual(1600);
      if (process.env.DUMP) console.log(JSON.stringify({ scanExpected, sent }, null, 1));
    });

    it('workflow 1: after a restart the trigger polls again and resends nothing (state in n8n)', async () => {
      const scans = () => server.stderr().match(/"tool call".*"tool":"market_scanner"/g)?.length ?? 0;
      const sentBefore = stub.messages.length;
      const scansBefore = scans();
      await n8n.stop();
      await n8n.start();
      await until('the trigger to poll after the restart', () => scans() > scansBefore, 60_000);
      await new Promise((r) => setTimeout(r, 2000));
      expect(stub.messages.length).toBe(sentBefore);
    });

    it('workflow 3: a server alert fires at n8n, is verified, enriched and sent; a forged one is not', async () => {
      const hook = `${n8n.baseUrl}/webhook/crypto-alert`;
      // A forged call (wrong signature) first: it must stop at the signature check.
      const forged = JSON.stringify({
        outbox_id: 'forged',
        symbol: 'SOLUSDT',
        timeframe: '1h',
        message: 'FORGED',
      });
      // n8n registers production webhooks a moment after the editor is up: retry while it is 404.
      const status = await until('the webhook to be registered', async () => {
        const res = await fetch(hook, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature': 'sha256=' + '0'.repeat(64) },
          body: forged,
        });
        return res.status !== 404 && res.status;
      });
      expect(status).toBe(200);

      const created = await rest('POST', '/api/v1/alerts', {
        symbol: 'ETHUSDT',
        timeframe: '4h',
        condition: 'price > 1',
        webhook_url: hook,
      });
      const alertId = (created.alert as { id: string }).id;
      const body = await until('the enriched alert message', () =>
        bodies().find((b) => b.includes('"price > 1"')),
      );
      expect(body).toMatch(/ETH\/USDT price/);
      expect(body).toMatch(/ETH\/USDT 4h now:\* (BUY|SELL|HOLD) \(\d+% confidence\)/);
      expect(body).toMatch(/Data: binance \(offline\), last candle \d{4}-/);
      expect(body).toMatch(/Not financial advice/);
      if (process.env.DUMP) console.log(bodies());

      // The server recorded the delivery as sent (n8n answered 2xx); the forged call sent nothing.
      const history = await rest('GET', `/api/v1/alerts/${alertId}/history`);
      expect((history.history as { delivery: string }[])[0]!.delivery).toBe('sent');
      expect(bodies().some((b) => b.includes('FORGED'))).toBe(false);
    });
  });
});
