// Admin actions (list all, stop any, extend) behind a token from the environment, compared in constant time
// and never logged; an extension survives a kill -9 of the controller.
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, launchAndWait, request, startStack, waitFor, type Stack } from "../support/stack.js";

// The environment wins over the file: the file's token must stop working.
const TOKEN = "env-admin-token-5f0c2a9e71b4";
const FILE_TOKEN = "file-admin-token-0123456789";

describe("admin actions (real controller process)", () => {
  let stack: Stack;
  const admin = (method: string, path: string, token: string | undefined, body?: unknown) =>
    request(stack.nginxPort, {
      host: "demo.localhost",
      method,
      path,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    process.env.DEMO_LAUNCHER_ADMIN_TOKEN = TOKEN;
    stack = await startStack({ controller: "child", extraYaml: `adminToken: ${FILE_TOKEN}` });
  });
  afterAll(async () => {
    delete process.env.DEMO_LAUNCHER_ADMIN_TOKEN;
    await stack?.close();
  });

  it("needs the token for every admin action, through nginx or not", async () => {
    for (const [method, path, body] of [["GET", "/api/demos"], ["GET", "/api/status"], ["DELETE", "/api/demos/abcdefgh"], ["POST", "/api/demos/abcdefgh/extend", { by: "10m" }]] as const) {
      for (const token of [undefined, "wrong", FILE_TOKEN, `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const answer = await admin(method, path, token, body);
        expect(answer.status, `${method} ${path} with ${token}`).toBe(401);
        expect(answer.body).not.toContain(TOKEN);
      }
      // Straight from the host, without nginx, a token is needed too once one is configured.
      expect((await stack.api(method, path, body)).status).toBe(401);
    }
    expect((await admin("GET", "/api/demos", TOKEN)).status).toBe(200);
  });

  it("extends a demo, keeps the extension across a kill -9, and refuses bad extensions", async () => {
    const demo = await launchAndWait(stack, "hello");
    const before = Date.parse(((JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body)) as { expiresAt: string }).expiresAt);
    const extended = await admin("POST", `/api/demos/${demo.id}/extend`, TOKEN, { by: "30m" });
    expect(extended.status, extended.body).toBe(200);
    const after = Date.parse((JSON.parse(extended.body) as { expiresAt: string }).expiresAt);
    expect(after - before).toBe(30 * 60_000);

    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    await stack.startChild();
    const adopted = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as { expiresAt: string; status: string };
    expect(adopted).toMatchObject({ status: "ready", expiresAt: new Date(after).toISOString() });

    expect((await admin("POST", `/api/demos/${demo.id}/extend`, TOKEN, { by: "forever" })).status).toBe(400);
    expect((await admin("POST", `/api/demos/${demo.id}/extend`, TOKEN, { by: "25h" })).status).toBe(400);
    expect((await admin("POST", `/api/demos/${demo.id}/extend`, TOKEN, {})).status).toBe(400);
    expect((await admin("POST", "/api/demos/zzzzzzzz/extend", TOKEN, { by: "1m" })).status).toBe(404);

    // The CLI reads the token from the same environment variable.
    const cli = await execa("node", [CLI, "--config", stack.configFile, "extend", demo.id, "5m"], { reject: false, all: true });
    expect(cli.exitCode, cli.all).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^extended ${demo.id}: \\d+m( \\d+s)? left`));
    const stopped = await execa("node", [CLI, "--config", stack.configFile, "stop", demo.id], { reject: false, all: true });
    expect(stopped.stdout.trim()).toBe(`stopped ${demo.id}`);
    await waitFor("the stopped demo's host to say so", async () => (await stack.viaNginx(demo.host, "/")).status === 410, 30_000);
  });

  it("never writes the token to its log", async () => {
    expect(stack.childOutput.length).toBeGreaterThan(0);
    expect(stack.childOutput).not.toContain(TOKEN);
    expect(stack.childOutput).not.toContain(FILE_TOKEN);
  });
});
