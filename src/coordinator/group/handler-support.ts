/** Small helpers the group handlers in src/broker/handlers share. */
import type { GroupCoordinator } from './group-coordinator.js';

/**
 * The broker's group coordinator, or undefined when the broker runs without one (the handlers then
 * answer COORDINATOR_NOT_AVAILABLE, which clients retry).
 */
export function coordinatorOf(broker: unknown): GroupCoordinator | undefined {
  return (broker as { groups?: GroupCoordinator }).groups;
}

/** A member's host as Kafka reports it: "/" + the address (InetAddress.toString), IPv4-mapped IPv6 unwrapped. */
export function clientHostOf(remoteAddress: string): string {
  return `/${remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress}`;
}
