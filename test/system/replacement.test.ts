// Zero-downtime replacement on a real Docker engine and a real nginx, under a steady client load.
import type { DemoView as ReplacementView } from "../../src/api/views.js";
import { afterEach, describe, expect, it } from "vitest";
import { startLoad } from "../support/load.js";
import { GiveUp, launchAndWait, namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";
import { ensureVersionedImages, versionedTag } from "../support/versioned-images.js";

const appsYaml = `  versioned:
    image: ${versionedTag("v1")}
    port: 8080
    ttl: 10m
    memory: 32m
    pids: 32
    banner: false
    readiness: { path: /, timeout: 10s }`;


async function replaceAndWait(stack: Stack, id: string, image: string, expected: "succeeded" | "failed" = "succeeded"): Promise<ReplacementView> {
  const answer = await stack.api("POST", `/api/demos/${id}/replace`, { image });
  if (answer.status !== 202) throw new Error(`replace answered ${answer.status}: ${answer.body}`);
  return waitFor(`the replacement of ${id} by ${image} to be ${expected}`, async () => {
    const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body) as ReplacementView;
    if (view.replacement?.status === expected) return view;
    if (view.replacement?.status !== "running") throw new GiveUp(`the replacement is ${view.replacement?.status}: ${view.replacement?.reason ?? ""}`);
    return undefined;
  }, 30_000, 50);
}

describe("replacement", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("replaces a demo 10 times under load: no failed request, no 5xx, and the answers switch to the new image", async () => {
    stack = await startStack({ appsYaml, nginxYaml: "  drain: 1s" });
    await ensureVersionedImages(stack.docker, ["v1", "v2"]);
    const demo = await launchAndWait(stack, "versioned");
    const load = startLoad(stack.nginxPort, demo.host);
    const switches: number[] = [];
    try {
      await waitFor("the load to get answers", async () => load.answers.length > 20);
      for (let round = 1; round <= 10; round += 1) {
        const version = round % 2 === 1 ? "v2" : "v1";
        const asked = Date.now();
        const view = await replaceAndWait(stack, demo.id, versionedTag(version));
        expect(view.status).toBe("ready");
        // Once the replacement says it succeeded, nginx routes new connections to the new instance.
        const served = await waitFor(`version ${version} to be served`, async () => load.answers.find((answer) => answer.at > asked && !answer.keepAlive && answer.body.trim() === `version ${version}`), 5000, 20);
        switches.push(served.at - asked);
      }
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    // Every answer came from one of the two images, and both were seen.
    expect(new Set(load.answers.map((answer) => answer.body.trim()))).toEqual(new Set(["version v1", "version v2"]));
    expect(switches).toHaveLength(10);
    // The old instances are drained and removed: one container serves the demo.
    await waitFor("the last old instance to be removed", async () => (await namespaceContainers(stack!.docker, stack!.namespace)).length === 1, 30_000);
    const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as ReplacementView;
    expect(view.instances).toMatchObject([{ generation: 11, image: versionedTag("v1"), health: "healthy" }]);
  });

  it("keeps the old instance serving when the new image crashes at start, and says why", async () => {
    stack = await startStack({ appsYaml, nginxYaml: "  drain: 1s" });
    await ensureVersionedImages(stack.docker, ["v1", "crash"]);
    const demo = await launchAndWait(stack, "versioned");
    const load = startLoad(stack.nginxPort, demo.host);
    let view: ReplacementView;
    try {
      view = await replaceAndWait(stack, demo.id, versionedTag("crash"), "failed");
      // The old instance goes on serving after the failure, not only until it.
      await load.more(20);
    } finally {
      await load.stop();
    }
    expect(view.replacement!.reason).toBe("the app stopped while starting: it exited with code 3");
    expect(view.status).toBe("ready");
    expect(load.failures).toEqual([]);
    expect(new Set(load.answers.map((answer) => `${answer.status} ${answer.body.trim()}`))).toEqual(new Set(["200 version v1"]));
    expect(await namespaceContainers(stack.docker, stack.namespace)).toHaveLength(1);
    // It can be replaced again once that has failed.
    const again = await replaceAndWait(stack, demo.id, versionedTag("v1"));
    // Generation numbers are never reused: the failed attempt had 2.
    expect(again.instances!.filter((instance) => instance.health === "healthy")).toMatchObject([{ generation: 3, image: versionedTag("v1") }]);
  });

  it("refuses what cannot be replaced, in problem+json", async () => {
    stack = await startStack({ appsYaml, nginxYaml: "  drain: 1s" });
    await ensureVersionedImages(stack.docker, ["v1"]);
    const demo = await launchAndWait(stack, "versioned");
    const missing = await stack.api("POST", `/api/demos/${demo.id}/replace`, { image: "demo-launcher-test/nothing:here" });
    expect(missing.status).toBe(400);
    expect(missing.headers["content-type"]).toContain("application/problem+json");
    expect(JSON.parse(missing.body).detail).toBe("The image demo-launcher-test/nothing:here is not on this host; build or load it first.");
    expect((await stack.api("POST", "/api/demos/nosuch00/replace", {})).status).toBe(404);
    expect(JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/replace`, { image: 42 })).body).detail).toBe('"image" must be an image reference such as acme/crm:2.1, not 42.');
    // Through nginx there is no admin without a token.
    expect((await stack.viaNginx("demo.localhost", `/api/demos/${demo.id}/replace`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    const first = await stack.api("POST", `/api/demos/${demo.id}/replace`, {});
    expect(first.status).toBe(202);
    const second = await stack.api("POST", `/api/demos/${demo.id}/replace`, {});
    expect(second.status).toBe(409);
    expect(JSON.parse(second.body).detail).toBe(`Demo ${demo.id} is already being replaced by ${versionedTag("v1")}; wait until that ends.`);
  });
});
