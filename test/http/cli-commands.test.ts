// The CLI's client commands run in-process against the HTTP layer (on a loopback port), their words collected
// through an injected output: launch, ls, extend (and its refusals), stop, stop --all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExtend } from "../../src/cli/commands/extend.js";
import { runLaunch } from "../../src/cli/commands/launch.js";
import { runList } from "../../src/cli/commands/ls.js";
import { runStop, runStopAll } from "../../src/cli/commands/stop.js";
import { collectingOutput } from "../../src/cli/output.js";
import { UsageError } from "../../src/core/errors.js";
import type { Config } from "../../src/config/load.js";
import { httpApp } from "../support/http-app.js";

describe("the CLI's client commands, in-process", () => {
  let app: Awaited<ReturnType<typeof httpApp>>;
  let config: Config;

  beforeAll(async () => {
    app = await httpApp("");
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.server.address() as { port: number };
    config = { ...app.config, listen: { host: "127.0.0.1", port: address.port } };
  });
  afterAll(async () => app?.close());

  it("launch, ls, extend and stop say what happened, in tables and in the CLI's own words", async () => {
    const launched = collectingOutput();
    expect(await runLaunch(config, "hello", {}, launched)).toBe(0);
    const id = launched.lines[0]!.split(/\s+/)[0]!;
    expect(launched.lines[0]).toMatch(new RegExp(`^${id}  starting  http://${id}\\.demo\\.localhost(:\\d+)?/  \\(\\d+m( \\d+s)? left\\)$`));
    await app.settled();

    const listed = collectingOutput();
    expect(await runList(config, {}, listed)).toBe(0);
    expect(listed.lines[0]).toMatch(/^ID\s+KIND\s+APP\s+STATUS\s+LEFT\s+URL$/);
    expect(listed.lines[1]).toMatch(new RegExp(`^${id}\\s+visitor\\s+hello\\s+ready\\s+\\d+m( \\d+s)? left\\s+http://${id}\\.demo\\.localhost`));

    await expect(runExtend(config, id, "ten", collectingOutput())).rejects.toBeInstanceOf(UsageError);
    const extended = collectingOutput();
    expect(await runExtend(config, id, "5m", extended)).toBe(0);
    expect(extended.lines).toEqual([expect.stringMatching(new RegExp(`^extended ${id}: \\d+m( \\d+s)? left \\(until \\S+Z\\)$`))]);

    const stopped = collectingOutput();
    expect(await runStop(config, id, stopped)).toBe(0);
    expect(stopped.lines).toEqual([`stopped ${id}`]);
    const empty = collectingOutput();
    await runList(config, {}, empty);
    expect(empty.lines).toEqual(["no live demos"]);
  });
});

describe("stop --all", () => {
  it("stops every live demo, then removes the warm pool's and the created-ahead containers, and none is made again", async () => {
    const app = await httpApp("apps:\n  hello: { image: img, port: 8080, pool: 1, prepared: 1, readiness: { path: /, timeout: 5s } }\n");
    try {
      await app.server.listen({ host: "127.0.0.1", port: 0 });
      const config: Config = { ...app.config, listen: { host: "127.0.0.1", port: (app.server.server.address() as { port: number }).port } };
      await app.settled();
      const launched = collectingOutput();
      expect(await runLaunch(config, "hello", {}, launched)).toBe(0);
      const id = launched.lines[0]!.split(/\s+/)[0]!;
      await app.scheduler.runUntil(app.engine.reapTick());
      await app.settled();
      // The visitor's demo, a warm pool member and a container created ahead.
      expect([app.engine.list().length, app.engine.poolStatus(), app.engine.preparedStatus(), app.runtime.containers.size]).toEqual([1, { hello: { ready: 1, starting: 0 } }, { hello: { ready: 1, creating: 0 } }, 3]);

      const stopped = collectingOutput();
      expect(await runStopAll(config, undefined, stopped)).toBe(0);
      expect(stopped.lines).toEqual([`stopped ${id}`, "removed 2 spare container(s) (warm pools, created ahead); none is made again until the controller restarts"]);
      await app.scheduler.runUntil(app.engine.reapTick());
      await app.settled();
      expect([app.engine.list().length, app.engine.poolStatus(), app.engine.preparedStatus(), app.runtime.containers.size]).toEqual([0, { hello: { ready: 0, starting: 0 } }, { hello: { ready: 0, creating: 0 } }, 0]);
      // Nothing left to remove: said with no line.
      const again = collectingOutput();
      expect([await runStopAll(config, undefined, again), again.lines]).toEqual([0, []]);
    } finally {
      await app.close();
    }
  });
});
