import { createServer } from 'node:net';

/** A port nothing listens on now (Probot's Server ignores port 0: TOOLCHAIN pitfall 3). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
