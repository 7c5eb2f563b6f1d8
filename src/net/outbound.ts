import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where Herald may connect on a user's behalf (webhook URLs, Web Push endpoints): globally routable
 * unicast addresses only, so a registered URL cannot reach the cloud metadata service, the private
 * network or the host itself (server-side request forgery). `allowedNetworks` lets development and
 * tests reach their own listeners; production leaves it empty.
 */
export interface OutboundPolicy {
  /** Plain http is refused unless set (development and tests). */
  allowHttp: boolean;
  /** Networks allowed although not public, e.g. 127.0.0.0/8 for local receivers. */
  allowedNetworks: Network[];
}

export type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Resolves a host name to every address it has; tests swap in their own to play DNS tricks without a network. */
export type Resolve = (hostname: string) => Promise<string[]>;

export const systemResolve: Resolve = async (hostname) => (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** `127.0.0.0/8,::1/128` → networks; throws naming the entry that is not CIDR notation. */
export function parseNetworks(entries: string[]): Network[] {
  return entries.map((entry) => {
    try {
      return ipaddr.parseCIDR(entry);
    } catch {
      throw new Error(`"${entry}" is not a network in CIDR notation (e.g. 127.0.0.0/8 or ::1/128)`);
    }
  });
}

/** Refused by the policy: thrown before any connection is made. */
export class OutboundRefused extends Error {
  override readonly name = 'OutboundRefused';
}

/** Why `address` may not be connected to, or undefined when it may. */
export function addressRefusal(address: string, policy: OutboundPolicy): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  // ::ffff:10.0.0.1 is 10.0.0.1 to the kernel: judge the IPv4 address it carries.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (policy.allowedNetworks.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return undefined;
  const range = ip.range();
  return range === 'unicast' ? undefined : `${address} is a ${range} address`;
}

/** The checks a URL passes before any name is resolved: scheme, credentials, and the host when it is an IP literal. */
export function urlRefusal(url: string, policy: OutboundPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not an absolute URL';
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && policy.allowHttp)) return `${parsed.protocol} URLs are not allowed; use https`;
  if (parsed.username || parsed.password) return 'URLs with credentials are not allowed';
  // The WHATWG parser has already turned 0x7f000001, 2130706433 and 127.1 into 127.0.0.1.
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(host) ? addressRefusal(host, policy) : undefined;
}

/**
 * Checks `url` the way a send will: the URL itself, then every address its host resolves to (one
 * refused address refuses the name). Registration calls this; a send checks again at connect time.
 */
export async function checkOutboundUrl(url: string, policy: OutboundPolicy, resolve: Resolve = systemResolve): Promise<void> {
  const refusal = urlRefusal(url, policy);
  if (refusal) throw new OutboundRefused(refusal);
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return;
  await resolvedAddresses(host, policy, resolve);
}

async function resolvedAddresses(host: string, policy: OutboundPolicy, resolve: Resolve): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw Object.assign(new Error(`${host} does not resolve: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`), { code: 'ENOTFOUND' });
  }
  if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  for (const address of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal) throw new OutboundRefused(`${host} resolves to a refused address: ${refusal}`);
  }
  return addresses;
}

/**
 * A `lookup` for net/tls connections (http.Agent, undici's Agent) that resolves, checks every
 * address, and hands back only checked ones: the socket connects to exactly what was checked, so a
 * name cannot pass the check and then resolve elsewhere (DNS rebinding).
 */
export function guardedLookup(policy: OutboundPolicy, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolvedAddresses(hostname, policy, resolve).then(
      (addresses) => {
        const entries = addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }));
        if (options.all) (callback as (err: null, addresses: typeof entries) => void)(null, entries);
        else callback(null, entries[0].address, entries[0].family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}
