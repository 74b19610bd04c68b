// The command line against a real stack, its error messages, and the systemd units.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, startStack, waitFor, type Stack } from "../support/stack.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { STARTING_GATE } from "../../src/core/routing/routes.js";

const run = (args: string[]) => execa("node", [CLI, ...args], { reject: false, all: true, stdin: "ignore", timeout: 60_000 });

describe("config errors at start", () => {
  it("lists every problem of a bad file, naming key, value and what is allowed, and exits 2", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-cli-"));
    const file = path.join(dir, "bad.yaml");
    await writeFile(file, "domain: Not_A_Domain\nlimits: { maxDemos: -1, perclient: 2 }\napps:\n  hello: { image: x, port: 80, ttl: soon }\n");
    const result = await run(["--config", file, "serve"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      [
        `demo-launcher: ${file} has 4 problems:`,
        '  - domain: "Not_A_Domain" is wrong: must be a DNS name such as demo.example.org (lowercase letters, digits, dots and hyphens)',
        "  - limits.maxDemos: -1 is wrong: must be a whole number of demos, at least 1",
        "  - limits.perclient: unknown key (did you mean perClient?); allowed keys here: maxDemos, perClient, queueLength, launchesPerClient, launchWindow, memory, minFreeDisk, perNetwork",
        '  - apps.hello.ttl: "soon" is wrong: must be a number followed by ms, s, m, h or d (for example 90s, 10m, 1h)',
      ].join("\n"),
    );
  });

  it("says plainly when the file is missing", async () => {
    const result = await run(["--config", "/nonexistent/demo.yaml", "doctor"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('demo-launcher: /nonexistent/demo.yaml has 1 problem:\n  - --config: "/nonexistent/demo.yaml" does not exist');
  });

  it("says a usage error in one line, not the whole usage", async () => {
    const cases: Array<[string[], string]> = [
      [["extend"], "demo-launcher: missing required argument 'id' (--help shows the usage)"],
      [["lunch"], "demo-launcher: unknown command 'lunch' (Did you mean launch?) (--help shows the usage)"],
      [["ls", "--bogus"], "demo-launcher: unknown option '--bogus' (--help shows the usage)"],
    ];
    for (const [args, line] of cases) {
      const result = await run(args);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(line);
      expect(result.stdout).toBe("");
    }
  });
});

describe("CLI against a running controller (real Docker, real nginx)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  it("launches, lists, renders and stops", async () => {
    const launched = await run(["--config", stack.configFile, "launch", "hello", "--json", "--wait", "30"]);
    expect(launched.exitCode, launched.all).toBe(0);
    const view = JSON.parse(launched.stdout);
    expect(view).toMatchObject({ app: "hello", status: "ready" });

    const listed = await run(["--config", stack.configFile, "ls"]);
    expect(listed.stdout).toMatch(/^ID\s+KIND\s+APP\s+STATUS\s+LEFT\s+URL$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${view.id}\\s+${view.kind}\\s+hello\\s+ready\\s+\\d+m( \\d+s)? left\\s+${view.url.replace(/\./g, "\\.")}$`, "m"));
    // A value the CLI cannot take is said in its own words, before any call.
    const badExtend = await run(["--config", stack.configFile, "extend", view.id, "ten"]);
    expect(badExtend.exitCode).toBe(2);
    expect(badExtend.stderr).toBe('demo-launcher: extend: "ten" is not a duration; give a number and a unit (s, m, h, d), such as 30m or 2h');
    expect((await run(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+/);

    // A second live demo: render must print byte for byte the file the controller wrote, banner entries and all.
    const second = JSON.parse((await run(["--config", stack.configFile, "launch", "hello", "--json", "--wait", "30"])).stdout) as { id: string; host: string };
    const live = await waitFor("both demos in the live routes file", async () => {
      const text = await readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8");
      // Served through the starting gate, the second loses it at the controller's next quiet moment.
      return text.includes(view.host) && text.includes(second.host) && !text.includes(`${second.host} "${STARTING_GATE}"`) ? text : undefined;
    });
    const rendered = await run(["--config", stack.configFile, "render"]);
    expect(rendered.exitCode).toBe(0);
    expect(rendered.stdout).toMatch(new RegExp(`${view.host} 127\\.0\\.0\\.1:\\d+;`));
    // (execa drops the output's last newline.)
    expect(rendered.stdout).toBe(live.replace(/\n$/, ""));
    await run(["--config", stack.configFile, "stop", second.id]);

    // The stack's drain is the default 10 s: --wait returns when the switch is done, not the drain.
    const replaced = await run(["--config", stack.configFile, "replace", view.id, "--wait", "30"]);
    expect(replaced.exitCode, replaced.all).toBe(0);
    expect(replaced.stdout.trim()).toBe(`replaced ${view.id}: now served by demo-launcher/hello:latest`);
    const missing = await run(["--config", stack.configFile, "replace", view.id, "--image", "demo-launcher-test/absent:none"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe("demo-launcher: The image demo-launcher-test/absent:none is not on this host; build or load it first.");
    expect((await run(["--config", stack.configFile, "replace", view.id, "--wait", "soon"])).stderr).toContain('--wait: "soon" is not a number of seconds');

    const stopped = await run(["--config", stack.configFile, "stop", view.id]);
    expect(stopped.stdout.trim()).toBe(`stopped ${view.id}`);
    await waitFor("its host to say stopped", async () => (await stack.viaNginx(view.host, "/")).body.includes("This demo was stopped"), 30_000);

    const again = await run(["--config", stack.configFile, "stop", view.id]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toBe(`demo-launcher: There is no live demo ${view.id}.`);

    const unknownApp = await run(["--config", stack.configFile, "launch", "nope"]);
    expect(unknownApp.exitCode).toBe(1);
    expect(unknownApp.stderr).toBe('demo-launcher: "nope" is not an app here; allowed: hello.');
  });

  it("says which controller does not answer", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-cli-"));
    const file = path.join(dir, "c.yaml");
    await writeFile(file, "listen: 127.0.0.1:1\n");
    const result = await run(["--config", file, "ls"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe("demo-launcher: the controller does not answer at http://127.0.0.1:1 (start it with `demo-launcher serve` or `demo-launcher up`)");
  });
});
