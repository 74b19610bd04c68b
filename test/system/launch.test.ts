// The whole flow against real Docker and real nginx: launch → routed → served → expired → expired page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchAndWait, namespaceContainers, startStack, waitFor, type Stack } from "../support/stack.js";

describe("launch through nginx (real Docker, real nginx)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      appsYaml: `  hello:
    image: demo-launcher/hello:latest
    port: 8080
    ttl: 6s
    memory: 64m
    cpus: 0.25
    pids: 64
    readiness: { path: /, timeout: 20s }`,
    });
  });
  afterAll(async () => stack?.close());

  it("serves the landing page on the apex host through nginx", async () => {
    const answer = await stack.viaNginx("demo.localhost", "/");
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("Launch demo");
    expect(answer.body).toContain('action="/launch"');
    // Our pages load nothing from elsewhere and cannot be framed.
    expect(answer.headers["content-security-policy"]).toBe(
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' http://demo.localhost:${stack.nginxPort} data:; connect-src 'self'; form-action 'self' http://demo.localhost:${stack.nginxPort} http://*.demo.localhost:${stack.nginxPort}; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(answer.headers["x-frame-options"]).toBe("DENY");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    // The title once: in <title> and as the heading, not repeated beside it.
    expect(answer.body).toContain("<title>Try it live</title>");
    expect(answer.body.match(/Try it live/g)).toHaveLength(2);
    // The icon every browser asks for, on the apex and on a host no demo holds (the controller's pages).
    for (const host of ["demo.localhost", "zzzz0000.demo.localhost"]) {
      const icon = await stack.viaNginx(host, "/favicon.ico");
      expect(icon.status).toBe(200);
      expect(icon.headers["content-type"]).toBe("image/svg+xml");
      expect(icon.body).toMatch(/^<svg [^>]*><rect [^>]*fill="#2457d6"\/><text [^>]*>T<\/text><\/svg>$/);
    }
  });

  it("launches, routes, serves, expires and shows the expired page", async () => {
    const launched = await stack.api("POST", "/api/demos", { app: "hello" });
    expect(launched.status).toBe(201);
    const view = JSON.parse(launched.body);
    expect(view).toMatchObject({ app: "hello", status: "starting", host: `${view.id}.demo.localhost`, url: `http://${view.id}.demo.localhost:${stack.nginxPort}/` });
    expect(view.id).toMatch(/^[a-z][a-z0-9]{7}$/);
    expect(Date.parse(view.expiresAt) - Date.parse(view.createdAt)).toBe(6000);

    const ready = await launchWait(view.id);
    expect(ready.status).toBe("ready");

    // Ready means nginx serves it: no waiting, no retry.
    const page = await stack.viaNginx(view.host, "/");
    expect(page.status).toBe(200);
    expect(page.body).toContain("Hello guestbook");

    // The visitor's state lives in their own container.
    const signed = await stack.viaNginx(view.host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "message=hello+from+the+test" });
    expect(signed.status).toBe(303);
    expect((await stack.viaNginx(view.host, "/")).body).toContain("<li>hello from the test</li>");

    // The reserved path reaches the controller even on a routed host.
    const status = await stack.viaNginx(view.host, "/__demo/status.json");
    expect(JSON.parse(status.body)).toMatchObject({ id: view.id, status: "ready" });

    // The container: 127.0.0.1 only, labelled, limited, isolated.
    const [info] = await namespaceContainers(stack.docker, stack.namespace);
    const inspect = await stack.docker.getContainer(info!.Id).inspect();
    expect(inspect.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(ready.port ?? inspect.Config.Labels["demo-launcher.port"]) }] });
    expect(inspect.NetworkSettings.Ports["8080/tcp"]!.every((binding: { HostIp: string }) => binding.HostIp === "127.0.0.1")).toBe(true);
    expect(inspect.Config.Labels).toMatchObject({ "demo-launcher.id": view.id, "demo-launcher.app": "hello", "demo-launcher.host": view.host, "demo-launcher.expires-at": view.expiresAt, "demo-launcher.created-at": view.createdAt });
    expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(250_000_000);
    expect(inspect.HostConfig.PidsLimit).toBe(64);
    expect(inspect.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(inspect.HostConfig.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } });
    expect(inspect.HostConfig.NetworkMode).toBe("demo-launcher");
    const network = await stack.docker.getNetwork("demo-launcher").inspect();
    expect(network.Options?.["com.docker.network.bridge.enable_icc"]).toBe("false");

    // After its time box: the container is gone and the host says "expired", never a 502.
    await waitFor("the container to be reaped", async () => (await namespaceContainers(stack.docker, stack.namespace)).length === 0, 15_000);
    const expired = await waitFor("the expired page", async () => {
      const answer = await stack.viaNginx(view.host, "/");
      return answer.status === 410 ? answer : undefined;
    }, 5_000);
    expect(expired.body).toContain("This demo has expired");
    expect(expired.body).toContain("Launch a new demo");
    expect(expired.body).toContain(`action="http://demo.localhost:${stack.nginxPort}/launch"`);
    expect(JSON.parse((await stack.api("GET", `/api/demos/${view.id}`)).body)).toMatchObject({ status: "expired" });
  });

  it("shows an unknown host a page that says so, through nginx", async () => {
    const answer = await stack.viaNginx("zzzz9999.demo.localhost", "/some/path");
    expect(answer.status).toBe(404);
    expect(answer.body).toContain("There is no demo here");
  });

  it("answers a form launch with 303 to the demo's own URL", async () => {
    const answer = await stack.viaNginx("demo.localhost", "/launch", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "app=hello" });
    expect(answer.status).toBe(303);
    const location = String(answer.headers.location);
    expect(location).toMatch(new RegExp(`^http://[a-z][a-z0-9]{7}\\.demo\\.localhost:${stack.nginxPort}/$`));
    // Until its route is live, the demo's host shows the starting page (not a 502).
    const host = new URL(location).hostname;
    const first = await stack.viaNginx(host, "/");
    expect([200, 503]).toContain(first.status);
    if (first.status === 503) expect(first.body).toContain("Your demo is starting");
    await waitFor("the app on its host", async () => (await stack.viaNginx(host, "/")).body.includes("Hello guestbook"), 20_000);
  });

  it("gives a visitor who clicks again their live demo, while the operator's direct API launches more", async () => {
    const json = { "content-type": "application/json" };
    const first = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: json, body: '{"app":"hello"}' });
    const second = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: json, body: '{"app":"hello"}' });
    expect([200, 201]).toContain(first.status);
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body).id).toBe(JSON.parse(first.body).id);
    const direct = [await stack.api("POST", "/api/demos", { app: "hello" }), await stack.api("POST", "/api/demos", { app: "hello" })];
    expect(direct.map((answer) => answer.status)).toEqual([201, 201]);
    expect(JSON.parse(direct[0]!.body).id).not.toBe(JSON.parse(direct[1]!.body).id);
  });

  async function launchWait(id: string) {
    return waitFor(`demo ${id} ready`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body);
      if (view.status === "failed") throw new Error(view.reason);
      return view.status === "ready" ? view : undefined;
    });
  }
});
