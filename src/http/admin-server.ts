/**
 * The admin HTTP listener: Prometheus metrics at /metrics and a health check at /health.
 * Off unless `--http host:port` (setting `admin.http.listener`) is given.
 */
import { createServer, type Server } from 'node:http';
import type { BrokerMetrics } from '../broker/metrics.js';

export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: BrokerMetrics;
  /** Returns null when healthy, or the reason the broker is not. */
  health: () => string | null;
}

export class AdminServer {
  private server: Server | undefined;
  port = 0;

  constructor(private readonly options: AdminServerOptions) {}

  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        this.options.metrics.scrape().then(
          ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType }).end(text),
          (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
        );
        return;
      }
      if (path === '/health') {
        const problem = this.options.health();
        res
          .writeHead(problem ? 503 : 200, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(problem ? { status: 'unhealthy', reason: problem } : { status: 'ok' })}\n`);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : this.options.port;
    return this.port;
  }

  /** The listener no longer keeps the process alive (an embedded broker). */
  unref(): void {
    this.server?.unref();
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
