// Asks one DNS server directly for a name's TXT values (where a DNS-01 record must be seen before validation).
import { lookup, Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { TxtLookup } from "../core/tls/dns-challenge.js";

/** `server`: an address with an optional port (`192.0.2.1`, `192.0.2.1:5353`, `[2001:db8::1]:53`). */
export const lookupTxt: TxtLookup = async (server, name) => {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  resolver.setServers([server]);
  try {
    return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""));
  } catch (error) {
    // No such name or no TXT record yet: nothing is there, which is an answer.
    if ((error as NodeJS.ErrnoException).code === "ENOTFOUND" || (error as NodeJS.ErrnoException).code === "ENODATA") return [];
    throw error;
  }
};

/** `host`, `host:port`, `[v6]:port` (a DNS server as the config names it) in parts; the port when one is given. */
export function splitHostPort(server: string): { host: string; port?: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+))(?::(\d+))?$/.exec(server);
  return { host: match?.[1] ?? match?.[2] ?? server, ...(match?.[3] ? { port: Number(match[3]) } : {}) };
}

/** A DNS server as node's resolver takes it (an address, with its port): a name is looked up first. */
export async function serverAddress(server: string): Promise<string> {
  const { host, port } = splitHostPort(server);
  const address = isIP(host) ? host : (await lookup(host)).address;
  const shown = address.includes(":") ? `[${address}]` : address;
  return port !== undefined ? `${shown}:${port}` : shown;
}

/** The servers that answer for a name's zone (its NS records, the nearest parent that has some), by address. */
export async function authoritativeServers(name: string): Promise<string[]> {
  const labels = name.split(".");
  for (let start = 0; start < labels.length - 1; start += 1) {
    const zone = labels.slice(start).join(".");
    const hosts = await new Resolver({ timeout: 3000, tries: 2 }).resolveNs(zone).catch(() => [] as string[]);
    if (hosts.length > 0) return Promise.all(hosts.map((host) => serverAddress(host)));
  }
  throw new Error(`no NS records were found for ${name} or a parent of it: give tls.acme.dns.nameservers`);
}
