/**
 * The node package in a real n8n (2.41.1 on Node 24, tests/n8n-harness), the way a user runs it: the
 * packed tarball installed into the user folder's `.n8n/nodes`, credentials and the shipped workflows
 * from workflows/ imported with n8n's CLI, the real server on the offline snapshot, and Twilio replaced
 * by a local stub through the credential's base URL (the one part that cannot run here).
 *
 * 1. the scheduled scan: activated, `n8n start` polls at once; each setup >= 75 reaches WhatsApp once;
 * 2. the morning portfolio report: `n8n execute` through its manual trigger;
 * 3. the alert webhook: the server fires a real alert at n8n's webhook, signed; n8n verifies it,
 *    enriches it with analyze_crypto and sends it; a forged call is dropped;
 * 4. the AI analyst: n8n's AI Agent calls the Crypto Analysis tool (REST) and the server's MCP tools
 *    through n8n's MCP Client Tool; the chat model is a scripted OpenAI-compatible stub (no LLM here).
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
import { startOpenAiStub, type OpenAiStub } from './helpers/openai-stub.js';

if (!n8nAvailable && process.env.CI) {
  throw new Error('n8n harness missing: run `bash tests/n8n-harness/install.sh`');
}
if (!n8nAvailable) {
  console.warn('Skipping the n8n end-to-end test: run `bash tests/n8n-harness/install.sh` to enable it.');
}

const WORKFLOWS = new URL('../workflows/', import.meta.url).pathname;
const KEY = `n8n-e2e-${randomBytes(12).toString('hex')}`;
const SIGNING_SECRET = randomBytes(24).toString('hex');
const ANALYST_KEY = randomBytes(24).toString('hex');
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
  let llm: OpenAiStub;
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
    llm = await startOpenAiStub();
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
      {
        id: 'openAiCred1',
        name: 'OpenAI-compatible model',
        type: 'openAiApi',
        data: { apiKey: 'sk-e2e', url: llm.url },
      },
      { id: 'cryptoMcpBearer1', name: 'Crypto MCP bearer', type: 'httpBearerAuth', data: { token: KEY } },
      {
        id: 'analystHeaderAuth1',
        name: 'Crypto analyst webhook auth',
        type: 'httpHeaderAuth',
        data: { name: 'X-Analyst-Key', value: ANALYST_KEY },
      },
    ]);
    for (const file of readdirSync(WORKFLOWS).filter((f) => f.endsWith('.json'))) {
      const wf = workflow(file);
      // The one edit a user makes too: the MCP Client Tool's endpoint is this server's /mcp.
      for (const node of wf.nodes as { type: string; parameters: Json }[]) {
        if (node.type.endsWith('.mcpClientTool')) node.parameters.endpointUrl = server.url;
      }
      await n8n.importJson('workflow', wf);
    }
  }, 300_000);

  afterAll(async () => {
    await n8n?.stop();
    await server?.stop();
    await stub?.close();
    await llm?.close();
    if (n8n && !process.env.KEEP_N8N) rmSync(n8n.userFolder, { recursive: true, force: true });
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
      for (const id of ['cryptoScanToWhatsApp', 'cryptoAlertWebhook', 'cryptoAiAnalyst']) {
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
    it('workflow 4: the AI Agent answers with both tools, from the real server', async () => {
      const ask = (headers: Record<string, string>) =>
        fetch(`${n8n.baseUrl}/webhook/crypto-analyst`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ question: 'What does ETH look like on the 4h chart?' }),
        });
      // Without the header: refused (once n8n has registered the webhook, a moment after start-up).
      const denied = await until('the webhook to be registered', async () => {
        const res = await ask({});
        return res.status !== 404 && res;
      });
      expect(denied.status).toBe(403);
      const res = await ask({ 'x-analyst-key': ANALYST_KEY });
      const answer = (await res.json()) as { output?: string };
      expect(res.status, JSON.stringify(answer)).toBe(200);

      // The model was offered this package's tool and the server's MCP tools, and called both.
      const offered = llm.requests[0]!.tools!.map((t) => t.function.name);
      expect(offered).toContain('Crypto_Analysis');
      // n8n names MCP tools after the MCP Client Tool node: Crypto_MCP_server_<tool>.
      for (const tool of ['analyze_crypto', 'market_scanner', 'historical_backtest']) {
        expect(offered).toContain(`Crypto_MCP_server_${tool}`);
      }
      const last = llm.requests.at(-1)!;
      const toolResults = last.messages
        .filter((m) => m.role === 'tool')
        .map((m) => JSON.stringify(m.content));
      expect(toolResults).toHaveLength(2);
      for (const r of toolResults) expect(r).toMatch(/ETH\/USDT/);

      // The answer quotes the real analysis: same action, source and last candle as the REST API gives.
      const direct = await rest('POST', '/api/v1/tools/analyze_crypto', {
        symbol: 'ETHUSDT',
        timeframe: '4h',
      });
      const action = (direct.recommendation as { action: string }).action;
      expect(answer.output).toBe(
        `The analysis says ${action} (tools answered: 2; data: offline, last candle ${String(direct.as_of)}). Not financial advice.`,
      );
    });
  });
});
