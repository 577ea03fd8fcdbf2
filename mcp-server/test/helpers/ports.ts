/** Free TCP ports for test servers (the server's tests and the n8n node package's tests share this). */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port on 127.0.0.1 nothing listens on right now: the OS picks it, the probe server closes before
 * this resolves. Rejects when no port can be bound.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
