/**
 * MCP over stdio (Claude Desktop and other local clients). stdout carries only protocol messages;
 * logs go to stderr. The process exits when stdin closes.
 */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { AppContext } from '../services/context.js';
import { buildMcpServer } from './mcp-server.js';
import { log } from '../logger.js';

export function startStdioServer(ctx: AppContext): { close: () => Promise<void> } {
  const handle = serveStdio(() => buildMcpServer(ctx, { caller: 'local', transport: 'stdio' }), {
    onerror: (error) => log.warn('stdio error', { error }),
  });
  // When stdin ends the SDK closes the connection, aborting calls still running (the MCP stdio
  // binding: servers exit promptly on EOF; clients keep stdin open until they have read the answers).
  process.stdin.once('end', () => {
    void handle
      .close()
      .then(() => ctx.close())
      .finally(() => process.exit(0));
  });
  return handle;
}
