/**
 * TCP listeners for the Kafka protocol: accepts connections (within `max.connections` and
 * `max.connections.per.ip`), closes idle ones (`connections.max.idle.ms`), and hands frames to the broker.
 * SSL and SASL_SSL listeners speak TLS; on SASL_PLAINTEXT and SASL_SSL ones each connection gets a SASL
 * authenticator, which the dispatcher consults before serving a request.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import type { SecurityProtocol } from '../broker/config.js';
import { Connection, type ConnectionLogger, type FrameHandler } from './connection.js';
import { ANONYMOUS, type ConnectionSecurity, type KafkaPrincipal, userPrincipal } from './principal.js';
import { type SaslListenerConfig, SaslServerAuthenticator } from './sasl/authenticator.js';
import { distinguishedName, mapPrincipalName } from './ssl-principal.js';
import type { ListenerTls } from './tls.js';

export interface ListenerOptions {
  name: string;
  host: string;
  port: number;
  /** PLAINTEXT when absent. */
  securityProtocol?: SecurityProtocol;
  /** The TLS of an SSL or SASL_SSL listener. */
  tls?: ListenerTls;
  /** The SASL settings of a SASL_PLAINTEXT or SASL_SSL listener. */
  sasl?: SaslListenerConfig;
}

export interface ServerOptions {
  listeners: ListenerOptions[];
  handler: FrameHandler;
  logger: ConnectionLogger;
  maxRequestBytes: number;
  maxQueuedRequests: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** -1 disables the idle reaper. */
  idleTimeoutMs: number;
  /** The listeners and accepted sockets do not keep the process alive (an embedded broker). */
  unref?: boolean;
}

export interface BoundListener {
  name: string;
  host: string;
  port: number;
  securityProtocol: SecurityProtocol;
}

export class KafkaServer {
  private readonly servers: Server[] = [];
  private readonly tlsListeners: ListenerTls[] = [];
  private readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  private nextConnectionId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  readonly bound: BoundListener[] = [];

  constructor(private readonly options: ServerOptions) {}

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<BoundListener[]> {
    for (const listener of this.options.listeners) {
      const server = await this.createListener(listener);
      server.maxConnections = Math.min(this.options.maxConnections, 2 ** 31 - 1);
      // Node refuses connections over server.maxConnections itself, before `accept` sees them: say so too.
      server.on('drop', (data) =>
        this.options.logger.warn(
          { ip: data?.remoteAddress, connections: this.connections.size },
          `refusing connection: max.connections (${this.options.maxConnections}) reached`,
        ),
      );
      await new Promise<void>((resolve, reject) => {
        const fail = (err: NodeJS.ErrnoException) => {
          const why = err.code === 'EADDRINUSE' ? 'the port is in use (by another broker?)' : err.message;
          reject(new Error(`cannot listen on ${listener.name}://${listener.host}:${listener.port}: ${why}`));
        };
        server.once('error', fail);
        server.listen({ host: listener.host, port: listener.port, backlog: 1024 }, () => {
          server.off('error', fail);
          resolve();
        });
      });
      server.on('error', (err) => this.options.logger.warn({ err: err.message }, 'listener error'));
      if (this.options.unref) server.unref();
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : listener.port;
      this.servers.push(server);
      this.bound.push({
        name: listener.name,
        host: listener.host,
        port,
        securityProtocol: listener.securityProtocol ?? 'PLAINTEXT',
      });
    }
    if (this.options.idleTimeoutMs > 0) {
      const every = Math.max(100, Math.min(this.options.idleTimeoutMs / 4, 30_000));
      this.idleTimer = setInterval(() => this.reapIdle(), every);
      this.idleTimer.unref();
    }
    return this.bound;
  }

  private async createListener(listener: ListenerOptions): Promise<Server> {
    const { tls } = listener;
    if (tls === undefined) return createServer({ noDelay: true }, (socket) => this.accept(socket, listener));
    const server: TlsServer = createTlsServer({ ...(await tls.serverOptions()), noDelay: true }, (socket) =>
      this.accept(socket, listener),
    );
    // A client that is not TLS, or fails the handshake (an untrusted certificate), never becomes a connection.
    server.on('tlsClientError', (err, socket) => {
      this.options.logger.debug(
        { listener: listener.name, ip: socket.remoteAddress, err: err.message },
        'TLS handshake failed',
      );
    });
    tls.watch((options) => server.setSecureContext(options));
    this.tlsListeners.push(tls);
    return server;
  }

  /**
   * The security of a new connection: ANONYMOUS until SASL authenticates it, or, on an SSL listener, the
   * principal of its certificate. A string is why the connection is refused.
   */
  private securityOf(socket: Socket, listener: ListenerOptions): ConnectionSecurity | string {
    const securityProtocol = listener.securityProtocol ?? 'PLAINTEXT';
    if (listener.sasl !== undefined) {
      const sasl = new SaslServerAuthenticator(listener.sasl);
      return {
        securityProtocol,
        sasl,
        get principal(): KafkaPrincipal {
          return sasl.principal ?? ANONYMOUS;
        },
      };
    }
    let principal = ANONYMOUS;
    if (listener.tls !== undefined) {
      const tlsSocket = socket as TLSSocket;
      const raw = tlsSocket.getPeerCertificate()?.raw;
      if (raw !== undefined && raw.length > 0) {
        // With ssl.client.auth=requested an unverified certificate gets this far: Kafka's TLS refuses it.
        if (!tlsSocket.authorized) return `client certificate not trusted (${tlsSocket.authorizationError})`;
        const subject = distinguishedName(new X509Certificate(raw));
        const name = mapPrincipalName(listener.tls.principalRules, subject);
        if (name === null) return `No rules apply to ${subject} (ssl.principal.mapping.rules)`;
        principal = userPrincipal(name);
      }
    }
    return { securityProtocol, sasl: null, principal };
  }

  private accept(socket: Socket, listener: ListenerOptions): void {
    const listenerName = listener.name;
    const ip = socket.remoteAddress ?? '?';
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.connections.size >= this.options.maxConnections || fromIp >= this.options.maxConnectionsPerIp) {
      const which =
        this.connections.size >= this.options.maxConnections
          ? `max.connections (${this.options.maxConnections})`
          : `max.connections.per.ip (${this.options.maxConnectionsPerIp}) for ${ip}`;
      this.options.logger.warn(
        { ip, connections: this.connections.size, fromIp },
        `refusing connection: ${which} reached`,
      );
      socket.destroy();
      return;
    }
    const security = this.securityOf(socket, listener);
    if (typeof security === 'string') {
      this.options.logger.info({ ip, listener: listenerName }, `refusing connection: ${security}`);
      socket.destroy();
      return;
    }
    this.perIp.set(ip, fromIp + 1);
    if (this.options.unref) socket.unref();
    const conn = new Connection(
      this.nextConnectionId++,
      socket,
      listenerName,
      this.options.handler,
      {
        maxRequestBytes: this.options.maxRequestBytes,
        maxQueuedRequests: this.options.maxQueuedRequests,
        idleTimeoutMs: this.options.idleTimeoutMs,
      },
      this.options.logger,
      (c) => this.forget(c, ip),
      security,
    );
    this.connections.add(conn);
  }

  private forget(conn: Connection, ip: string): void {
    if (!this.connections.delete(conn)) return;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, left);
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const conn of this.connections) {
      if (conn.idleFor(now) > this.options.idleTimeoutMs) {
        conn.close(`idle for more than ${this.options.idleTimeoutMs} ms (connections.max.idle.ms)`);
      }
    }
  }

  /** Drops every open connection (fault injection and shutdown). */
  dropConnections(reason: string): void {
    for (const conn of [...this.connections]) conn.close(reason);
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    for (const tls of this.tlsListeners) tls.close();
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.dropConnections('broker shutting down');
    await Promise.all(closing);
    this.servers.length = 0;
  }
}
