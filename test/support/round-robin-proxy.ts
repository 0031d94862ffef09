/**
 * A load balancer in front of bot replicas, as small as a test needs: each request goes to the next
 * replica in turn; a replica that refuses the connection (killed) is skipped for that request, as a
 * load balancer's health check would soon do. A replica that dies after taking a request makes the
 * balancer answer 502, which a sender retries (Alertmanager does; a person clicks again).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** Requests each replica answered, by its index in `targets`. */
  served: number[];
  stop(): Promise<void>;
}

export async function startRoundRobinProxy(targets: () => readonly number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const served: number[] = [];
  const forward = (
    port: number,
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const upstream = http.request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const ports = targets();
        const body = Buffer.concat(chunks);
        for (let tried = 0; tried < ports.length; tried += 1) {
          const index = next++ % ports.length;
          try {
            const answer = await forward(ports[index]!, req, body);
            served[index] = (served[index] ?? 0) + 1;
            res.writeHead(answer.status, answer.headers);
            res.end(answer.body);
            return;
          } catch (error) {
            // Refused before it was sent: the replica is gone, try the next. Anything later is a 502.
            if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') break;
          }
        }
        res.writeHead(502);
        res.end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
