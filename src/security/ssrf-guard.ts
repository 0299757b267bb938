import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

/**
 * The SSRF guard. Endpoints must be https:// (plain http only where private endpoints are
 * allowed), and the address a connection is about to use is checked at connect time (see
 * `guardedLookup`), so a hostname that resolves to a private address, or is rebound to one
 * after it was saved, is refused.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  // unspecified, loopback and IPv4-compatible (::a.b.c.d, deprecated), SIIT (::ffff:0:a.b.c.d),
  // unique-local, link-local, multicast, NAT64 well-known and local-use, documentation,
  // discard, 6to4 (2002::/16 embeds an IPv4 address) and Teredo.
  ["::", 96], ["::ffff:0:0:0", 96], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["64:ff9b:1::", 48],
  ["2001:db8::", 32], ["100::", 64], ["2002::", 16], ["2001::", 32],
] as const) blocked.addSubnet(net, prefix, "ipv6");

/** Maps ::ffff:a.b.c.d (and its hex spelling) to a.b.c.d so the IPv4 rules apply. */
function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m?.[1]) return m[1];
  const h = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (h?.[1] && h[2]) {
    const hi = parseInt(h[1], 16), lo = parseInt(h[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}

/** True when the address is loopback, private, link-local, CGNAT, multicast, reserved... */
export function isPrivateAddress(address: string): boolean {
  const a = unmapIPv4(address.replace(/^\[|\]$/g, "").split("%")[0] as string);
  const family = isIP(a);
  if (family === 0) return true; // not an address: refuse rather than guess
  return blocked.check(a, family === 4 ? "ipv4" : "ipv6");
}

/**
 * What the guard lets through: everything private when `allowPrivate`, else only private
 * addresses inside `allowedCidrs` (e.g. an on-premise receiver at 10.20.0.0/16).
 */
export interface EndpointPolicy {
  readonly allowPrivate: boolean;
  readonly allowedCidrs?: readonly string[];
}
type PolicyLike = boolean | EndpointPolicy;

const allowLists = new WeakMap<EndpointPolicy, BlockList>();
/** Parses "a.b.c.d/n" or "v6::/n"; throws a clear error otherwise. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [address, bits] = cidr.trim().split("/");
  const family = isIP(address ?? "");
  const prefix = Number(bits);
  if (!address || family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new Error(`"${cidr}" is not a CIDR block like 10.0.0.0/8`);
  }
  return { address, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

function allowedByList(address: string, policy: EndpointPolicy): boolean {
  if (!policy.allowedCidrs || policy.allowedCidrs.length === 0) return false;
  let list = allowLists.get(policy);
  if (!list) {
    list = new BlockList();
    for (const c of policy.allowedCidrs) {
      const { address: a, prefix, family } = parseCidr(c);
      list.addSubnet(a, prefix, family);
    }
    allowLists.set(policy, list);
  }
  const a = unmapIPv4(address.replace(/^\[|\]$/g, "").split("%")[0] as string);
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 4 ? "ipv4" : "ipv6");
}

const asPolicy = (p: PolicyLike): EndpointPolicy => (typeof p === "boolean" ? { allowPrivate: p } : p);

/** True when the policy refuses a connection to this address. */
export function isRefusedAddress(address: string, policy: PolicyLike): boolean {
  const p = asPolicy(policy);
  return !p.allowPrivate && isPrivateAddress(address) && !allowedByList(address, p);
}

export class EndpointRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointRefusedError";
  }
}

/** Checks an endpoint URL when it is saved; returns a reason when it is refused. */
export function checkEndpointUrl(raw: string, policy: PolicyLike): string | undefined {
  const allowPrivate = asPolicy(policy).allowPrivate;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must use https://";
  if (url.protocol === "http:" && !allowPrivate) return "must use https:// (plain http is only allowed when Currents runs with --allow-private-endpoints or CURRENTS_ALLOW_PRIVATE_ENDPOINTS=1, e.g. npm start -- --allow-private-endpoints)";
  if (url.username || url.password) return "must not carry credentials in the URL (use the bearer token)";
  // "localhost." is localhost: trailing dots are dropped before any check.
  const host = url.hostname.replace(/^\[|\]$/g, "").replace(/\.+$/, "");
  if (!allowPrivate) {
    if (isIP(host) !== 0 && isRefusedAddress(host, policy)) return "points to a loopback, private or reserved address (allowed with --allow-private-endpoints, or inside CURRENTS_ALLOWED_CIDRS)";
    if (/^localhost$|\.localhost$|\.internal$|\.local$/i.test(host)) return "points to a local host name (allowed with --allow-private-endpoints)";
  }
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls connect options: resolves like dns.lookup, then refuses any
 * private address unless allowed. Used by the delivery HTTP client for every connection.
 */
export function guardedLookup(policy: PolicyLike) {
  const allowPrivate = asPolicy(policy).allowPrivate;
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => isRefusedAddress(a.address, policy));
      if (bad) {
        const e = new EndpointRefusedError(`${hostname} resolves to a private or reserved address; refused by the SSRF guard`);
        return callback(Object.assign(e, { code: "ECURRENTS_SSRF" }), []);
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}
