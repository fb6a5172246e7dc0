// Source-address rules for the webhook receiver: an optional allowlist of the addresses Tango
// publishes for its webhooks (TANGO_WEBHOOK_ALLOWED_IPS), and which proxies may tell us, through
// X-Forwarded-For, the address a request really came from (TANGO_WEBHOOK_TRUSTED_PROXIES).
import { BlockList, isIP } from 'node:net';

/** A parsed list of IPs and CIDR ranges, IPv4 and IPv6. */
export interface AddressList {
  /** The entries as configured (normalised), for logs and the start-up banner. */
  readonly entries: readonly string[];
  has(address: string): boolean;
}

/** '::ffff:192.0.2.1' (an IPv4 client on a dual-stack socket) is 192.0.2.1. */
export function normaliseAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed;
}

/**
 * Parses "203.0.113.7, 198.51.100.0/24, 2001:db8::/32". Throws an Error saying which entry is
 * wrong; the caller names the variable.
 */
export function parseAddressList(text: string): AddressList {
  const blocks = new BlockList();
  const entries: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', prefixText, extra] = entry.split('/');
    const ip = normaliseAddress(address);
    const family = isIP(ip);
    if (family === 0 || extra !== undefined) {
      throw new Error(`'${entry}' is not an IP address or CIDR range (e.g. 203.0.113.7 or 198.51.100.0/24)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      blocks.addAddress(ip, type);
      entries.push(ip);
      continue;
    }
    const prefix = Number(prefixText);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixText) || prefix > max) {
      throw new Error(`'${entry}': the prefix length must be 0-${max}`);
    }
    blocks.addSubnet(ip, prefix, type);
    entries.push(`${ip}/${prefix}`);
  }
  if (entries.length === 0) throw new Error('lists no address');
  return {
    entries,
    has(address: string) {
      const ip = normaliseAddress(address);
      const family = isIP(ip);
      if (family === 0) return false;
      return blocks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * The address a request came from: the socket's peer, unless that peer is a trusted proxy, in
 * which case X-Forwarded-For is read from the right, skipping trusted proxies, and the first
 * address that is not one is the client. Undefined when it cannot be told (no peer address, or a
 * trusted proxy sent an unreadable header): the caller refuses the request.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: AddressList | undefined,
): string | undefined {
  if (peer === undefined) return undefined;
  let current = normaliseAddress(peer);
  if (!trustedProxies || !trustedProxies.has(current)) return current;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const hops = header
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  // Only the hops our own proxies appended can be believed; anything left of them is the sender's.
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = normaliseAddress(hops[index]!);
    if (isIP(hop) === 0) return undefined;
    current = hop;
    if (!trustedProxies.has(hop)) return hop;
  }
  // Every hop was a proxy of ours (or there was no header): the request started at the last one.
  return current;
}
