import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** `http://host:port/endpoint`, with a wildcard host shown as 127.0.0.1. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves a PrometheusExporter's text over our own HTTP server. The exporter's built-in
 * server treats `port: 0` as "use the default 9464" and hides the bound address, so tests
 * could not run side by side and callers could not learn the port.
 */
export async function startMetricsServer(
  exporter: PrometheusExporter,
  { host, port, endpoint }: { host: string; port: number; endpoint: string },
): Promise<MetricsServer> {
  const path = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method === 'GET' && pathname === path) {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  // A metrics endpoint must never keep a worker alive on its own.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    port: bound,
    url: `http://${shownHost}:${bound}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Scrapers keep connections alive; close them or close() waits for their timeout.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
