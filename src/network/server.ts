/**
 * TCP listeners for the Kafka protocol: accepts connections (within `max.connections` and
 * `max.connections.per.ip`), closes idle ones (`connections.max.idle.ms`), and hands frames to the broker.
 * SSL and SASL_SSL listeners speak TLS; on SASL_PLAINTEXT and SASL_SSL ones each connection gets a SASL
 * authenticator, which the dispatcher consults before serving a request.
 *
 * Connection creation rates (KIP-612) are enforced as Kafka's ConnectionQuotas enforces them, with the
 * rates the broker keeps (ConnectionRateQuotas): over the broker-wide rate, accepting stops for the
 * throttle time, so this connection and every one after it wait (unread) to be accepted; over its IP's
 * rate, a connection is held unread for the throttle time and then closed.
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
  /** Per-address exceptions to maxConnectionsPerIp (`max.connections.per.ip.overrides`), by address. */
  maxConnectionsPerIpOverrides?: ReadonlyMap<string, number>;
  /** Connection creation rates; none: connections are never throttled. */
  connectionRates?: ConnectionRateQuotas;
  /** Told of every connection refused or throttled by a connection limit. */
  connectionMetrics?: ConnectionMetrics;
  /** -1 disables the idle reaper. */
  idleTimeoutMs: number;
  /** The listeners and accepted sockets do not keep the process alive (an embedded broker). */
  unref?: boolean;
}

/** The connection creation rates (KIP-612): the broker's rate sensors, fed one event per new connection. */
export interface ConnectionRateQuotas {
  /** Records a new connection against the broker-wide rate; how long accepting must pause (0: not at all). */
  recordConnectionAndGetThrottleTimeMs(nowMs: number): number;
  /**
   * Records a new connection from `ip` against its rate; how long to hold it before closing it (0: accept it).
   * A connection that is refused is not counted.
   */
  recordIpConnectionAndGetThrottleTimeMs(ip: string, nowMs: number): number;
}

export interface ConnectionMetrics {
  /** A connection closed on accept: `max`, `per_ip` or `ip_creation_rate`. */
  connectionRefused(reason: string): void;
  /** Accepting paused for `throttleMs` by the broker-wide creation rate. */
  acceptThrottled(throttleMs: number): void;
}

/** A connection waiting to be accepted while the broker-wide creation rate pauses accepting. */
interface PendingSocket {
  socket: Socket;
  listener: ListenerOptions;
  /** Already counted in the broker-wide rate (the connection that took it over the rate). */
  recorded: boolean;
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
  /** Sockets waiting to be accepted, in arrival order, and when accepting may resume. */
  private readonly pending: PendingSocket[] = [];
  private acceptBlockedUntil = 0;
  private acceptTimer: NodeJS.Timeout | undefined;
  /** Sockets over their IP's creation rate, held until their close (Kafka's delayed close). */
  private readonly throttledSockets = new Map<Socket, NodeJS.Timeout>();
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
      server.on('drop', (data) => {
        this.options.connectionMetrics?.connectionRefused('max');
        this.options.logger.warn(
          { ip: data?.remoteAddress, connections: this.connections.size },
          `refusing connection: max.connections (${this.options.maxConnections}) reached`,
        );
      });
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
    if (this.pending.length > 0 || Date.now() < this.acceptBlockedUntil) {
      this.hold(socket);
      this.pending.push({ socket, listener, recorded: false });
      this.scheduleAccepts();
      return;
    }
    this.admit({ socket, listener, recorded: false });
  }

  /** A socket not yet read from: errors (a reset by its client) must not be unhandled meanwhile. */
  private hold(socket: Socket): void {
    socket.on('error', () => {});
    if (this.options.unref) socket.unref();
  }

  /** Accepts the pending sockets once accepting may resume, until the rate pauses it again. */
  private scheduleAccepts(): void {
    if (this.acceptTimer !== undefined) return;
    this.acceptTimer = setTimeout(
      () => {
        this.acceptTimer = undefined;
        while (this.pending.length > 0 && Date.now() >= this.acceptBlockedUntil) {
          const next = this.pending.shift() as PendingSocket;
          if (!next.socket.destroyed) this.admit(next);
        }
        if (this.pending.length > 0) this.scheduleAccepts();
      },
      Math.max(0, this.acceptBlockedUntil - Date.now()),
    );
    if (this.options.unref) this.acceptTimer.unref();
  }

  private admit(next: PendingSocket): void {
    const { socket, listener } = next;
    const listenerName = listener.name;
    const rates = this.options.connectionRates;
    if (rates !== undefined && !next.recorded) {
      const now = Date.now();
      const throttleMs = rates.recordConnectionAndGetThrottleTimeMs(now);
      if (throttleMs > 0) {
        // As Kafka's acceptor: the connection that went over the rate waits too, first in line.
        this.acceptBlockedUntil = now + throttleMs;
        this.options.connectionMetrics?.acceptThrottled(throttleMs);
        this.hold(socket);
        this.pending.unshift({ socket, listener, recorded: true });
        this.scheduleAccepts();
        return;
      }
    }
    const ip = normalizeAddress(socket.remoteAddress ?? '?');
    const fromIp = this.perIp.get(ip) ?? 0;
    const maxFromIp = this.options.maxConnectionsPerIpOverrides?.get(ip) ?? this.options.maxConnectionsPerIp;
    if (this.connections.size >= this.options.maxConnections || fromIp >= maxFromIp) {
      const overMax = this.connections.size >= this.options.maxConnections;
      const which = overMax
        ? `max.connections (${this.options.maxConnections})`
        : `the limit of ${maxFromIp} connections from ${ip} (max.connections.per.ip or its overrides)`;
      this.options.connectionMetrics?.connectionRefused(overMax ? 'max' : 'per_ip');
      this.options.logger.warn(
        { ip, connections: this.connections.size, fromIp },
        `refusing connection: ${which} reached`,
      );
      socket.destroy();
      return;
    }
    const ipThrottleMs = rates?.recordIpConnectionAndGetThrottleTimeMs(ip, Date.now()) ?? 0;
    if (ipThrottleMs > 0) {
      // Kafka closes it only after the throttle time, so a client that reconnects at once is slowed down.
      this.options.connectionMetrics?.connectionRefused('ip_creation_rate');
      this.options.logger.debug(
        { ip, throttleMs: ipThrottleMs },
        `closing connection in ${ipThrottleMs} ms: ${ip} is over its connection_creation_rate quota`,
      );
      this.hold(socket);
      const timer = setTimeout(() => {
        this.throttledSockets.delete(socket);
        socket.destroy();
      }, ipThrottleMs);
      if (this.options.unref) timer.unref();
      this.throttledSockets.set(socket, timer);
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
    if (this.acceptTimer) clearTimeout(this.acceptTimer);
    for (const { socket } of this.pending.splice(0)) socket.destroy();
    for (const [socket, timer] of this.throttledSockets) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.throttledSockets.clear();
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.dropConnections('broker shutting down');
    await Promise.all(closing);
    this.servers.length = 0;
  }
}

/** An IPv4 client of a dual-stack listener shows as `::ffff:a.b.c.d`; limits and quotas name it a.b.c.d. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
