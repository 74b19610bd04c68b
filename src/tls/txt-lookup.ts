// Asks one DNS server directly for a name's TXT values (where a DNS-01 record must be seen before validation).
import { Resolver } from "node:dns/promises";
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
