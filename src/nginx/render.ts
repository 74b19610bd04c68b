// Renders the nginx routes file from the Eta template.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Eta } from "eta";
import { assertRouteIsSafe, type Route } from "../core/routes.js";
import type { Address } from "../config/schema.js";

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_TEMPLATES_DIR = path.join(PACKAGE_ROOT, "templates");

export interface RoutesInput {
  generation: number;
  controller: Address;
  routes: Route[];
}

export function formatAddress(address: Address): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export class RoutesRenderer {
  private readonly eta: Eta;

  constructor(templatesDir: string = DEFAULT_TEMPLATES_DIR) {
    // nginx syntax must never be HTML-escaped; values are validated by assertRouteIsSafe instead.
    this.eta = new Eta({ views: templatesDir, autoEscape: false, cache: true, autoTrim: [false, "nl"] });
  }

  render(input: RoutesInput): string {
    input.routes.forEach(assertRouteIsSafe);
    return this.eta.render("nginx/routes.conf.eta", {
      generation: input.generation,
      controller: formatAddress(input.controller),
      routes: input.routes,
      // nginx refuses to start when the map's hash cannot fit; grow it with the route count.
      mapHashMaxSize: Math.max(2048, 2 ** Math.ceil(Math.log2(input.routes.length * 2 + 1))),
    });
  }
}
