/** Small helpers the group handlers in src/broker/handlers share. */

/** A member's host as Kafka reports it: "/" + the address (InetAddress.toString), IPv4-mapped IPv6 unwrapped. */
export function clientHostOf(remoteAddress: string): string {
  return `/${remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress}`;
}
