// The CLI's client commands run in-process against the HTTP layer (on a loopback port), their words collected
// through an injected output: launch, ls, extend (and its refusals), stop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExtend } from "../../src/cli/commands/extend.js";
import { runLaunch } from "../../src/cli/commands/launch.js";
import { runList } from "../../src/cli/commands/ls.js";
import { runStop } from "../../src/cli/commands/stop.js";
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
