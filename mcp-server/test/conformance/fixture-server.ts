/**
 * Conformance fixture entrypoint: the product's real HTTP stack (startHttpServer → createHttpApp: Host
 * and Origin allow-list, bearer keys when MCP_API_KEYS is set, the v2 SDK handler serving both eras)
 * and the real AppContext from the environment (health, REST and charts answer as in the product),
 * with the suite's fixture McpServer (fixture.ts) in place of the product's. Run it on loopback
 * without keys, like the product's local mode:
 *
 *   DATA_SOURCE=offline DATA_DIR=memory MCP_PORT=0 npx tsx test/conformance/fixture-server.ts
 *
 * It prints `{"url":"http://127.0.0.1:…/mcp"}` on stdout once listening, and stops on SIGTERM/SIGINT.
 */
import { InMemoryServerEventBus } from '@modelcontextprotocol/server';
import { loadConfig } from '../../src/config.js';
import { log, setLogLevel } from '../../src/logger.js';
import { createAppContext } from '../../src/services/app.js';
import { startHttpServer } from '../../src/server/http.js';
import { buildConformanceServer, createFixtureState } from './fixture.js';

const config = loadConfig();
setLogLevel(config.LOG_LEVEL);
const ctx = await createAppContext(config);
const bus = new InMemoryServerEventBus();
const state = createFixtureState(bus);
const { url, close } = await startHttpServer(ctx, {
  buildServer: () => buildConformanceServer(state),
  bus,
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void close()
    .then(() => ctx.close())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
log.info('MCP conformance fixture listening', { url });
process.stdout.write(`${JSON.stringify({ url })}\n`);
