/**
 * The floor for the load benchmark: the product's own HTTP stack (startHttpServer: Host/Origin checks,
 * bearer keys, the v2 SDK handler) serving an McpServer with one bare `echo` tool, the SDK's simplest
 * useful answer. Whatever the product adds above this floor is its own cost.
 *
 * Prints `{"url": ...}` on stdout once listening; stops on SIGTERM.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { setLogLevel } from '../../src/logger.js';
import { createAppContext } from '../../src/services/app.js';
import { startHttpServer } from '../../src/server/http.js';

function echoServer(): McpServer {
  const server = new McpServer({ name: 'echo-floor', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text', inputSchema: z.object({ text: z.string() }) },
    ({ text }) => ({ content: [{ type: 'text', text }], structuredContent: { text } }),
  );
  return server;
}

const config = loadConfig();
setLogLevel(config.LOG_LEVEL);
const ctx = await createAppContext(config);
const { url, close } = await startHttpServer(ctx, { buildServer: echoServer });
process.once('SIGTERM', () => {
  void close()
    .then(() => ctx.close())
    .finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ url })}\n`);
