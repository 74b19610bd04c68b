// A Compose app's file checked when the controller starts (src/app/environments.ts), read from a real folder: with a
// warm pool it is checked as the pool makes its environments, before their visitor comes (no DEMO_EXPIRES_AT yet).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareEnvironments } from "../../src/app/environments.js";
import { loadConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";

const COMPOSE = `services:
  web:
    image: shop/web:1
    ports: ["8080"]
    environment:
      ENDS_AT: \${DEMO_EXPIRES_AT:?the shop shows when the demo ends}
      SHOP_URL: \${DEMO_URL}
`;

describe("a Compose app's file at the controller's start", () => {
  let dir: string;
  const load = async (pool: number) => {
    await writeFile(path.join(dir, "config.yaml"), `apps:\n  shop:\n    compose: compose.yaml\n    route: { service: web, port: 8080 }\n    pool: ${pool}\n`);
    return prepareEnvironments(await loadConfig(path.join(dir, "config.yaml"), {}));
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-compose-config-"));
    await writeFile(path.join(dir, "compose.yaml"), COMPOSE);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("takes a file that needs the end of the demo's time box when every demo starts for its visitor", async () => {
    expect((await load(0)).apps.shop).toMatchObject({ image: "shop/web:1", port: 8080 });
  });

  it("refuses it for a warm pool, under apps.<name>.pool, saying why and what to write", async () => {
    const refused = await load(1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    const problems = (refused as ConfigError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe("apps.shop.pool");
    expect(problems[0]!.message).toContain("the shop shows when the demo ends");
    expect(problems[0]!.message).toContain("(a warm pool's environments are made before their visitor comes, when DEMO_EXPIRES_AT is not known: write ${DEMO_EXPIRES_AT:-} or keep no pool)");
  });
});
