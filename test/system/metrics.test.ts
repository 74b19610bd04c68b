// /metrics on a real stack: the figures of what the test did, promtool's check, a real Prometheus scraping them,
// nothing through nginx without the token; and the lifecycle log telling each step of a demo.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../src/logger.js";
import { CLI, freePort, launchAndWait, request, startStack, waitFor, type Stack } from "../support/stack.js";
import { sample } from "../support/metrics.js";


describe("metrics and the lifecycle log", () => {
  let stack: Stack;
  let prometheus: ResultPromise | undefined;
  const lines: string[] = [];
  const fields: Array<Record<string, unknown>> = [];
  const keep = (level: string) => (text: string, facts?: Record<string, unknown>) => {
    lines.push(`${level} ${text}`);
    if (facts) fields.push(facts);
  };
  const logger: Logger = { info: keep("info"), warn: keep("warn"), error: keep("error") };

  beforeAll(async () => {
    stack = await startStack({ logger, limitsYaml: "limits: { maxDemos: 5, perClient: 5 }" });
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill("SIGKILL");
    await prometheus?.catch(() => {});
    await stack?.close();
  });

  it("counts launches, readiness, ends and health, passes promtool, and is scraped by a real Prometheus", async () => {
    const first = await launchAndWait(stack, "hello");
    await launchAndWait(stack, "hello");
    expect((await stack.api("POST", "/api/demos", { app: "nope" })).status).toBe(400);
    expect((await stack.api("DELETE", `/api/demos/${first.id}`)).status).toBe(204);

    const answer = await stack.api("GET", "/metrics");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = answer.body;
    // What each count means is checked over inject (test/http/metrics.test.ts); here, that the real controller wires them.
    expect(sample(text, /^demo_launcher_launches_total\{app="hello",outcome="started"\}/)).toBe(2);
    expect(sample(text, /^demo_launcher_live_demos\{kind="visitor",app="hello",status="ready"\}/)).toBe(1);
    expect(sample(text, /^demo_launcher_docker_up /)).toBe(1);
    expect(sample(text, /^demo_launcher_watcher_up /)).toBe(1);
    expect(sample(text, /^demo_launcher_nginx_reloads_total /)).toBeGreaterThan(0);
    expect(sample(text, /^demo_launcher_routes_apply_seconds_count /)).toBeGreaterThan(0);
    expect(sample(text, /^process_resident_memory_bytes /)).toBeGreaterThan(0);
    // Every metric the Grafana example queries is one the controller serves.
    const dashboard = await (await import("node:fs/promises")).readFile(new URL("../../examples/grafana/demo-launcher.json", import.meta.url), "utf8");
    const queried = new Set([...dashboard.matchAll(/\b((?:demo_launcher|process)_[a-z_]+)/g)].map((match) => match[1]!.replace(/_(bucket|count|sum)$/, "")));
    expect(queried.size).toBeGreaterThan(10);
    for (const name of queried) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    const check = await execa("promtool", ["check", "metrics"], { input: text, reject: false, all: true });
    expect(check.all).toBe("");
    expect(check.exitCode).toBe(0);

    // Through nginx (the apex, as the internet would ask): nothing to see.
    const outside = await stack.viaNginx("demo.localhost", "/metrics");
    expect(outside.status).toBe(404);
    expect(outside.headers["content-type"]).toMatch(/problem\+json/);

    // A real Prometheus (Debian's), scraping the controller every second, answers a query for this test's launches.
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-prometheus-"));
    const port = await freePort();
    await writeFile(path.join(dir, "prometheus.yml"), `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: demo-launcher\n    static_configs: [{ targets: ["127.0.0.1:${stack.config.listen.port}"] }]\n`);
    prometheus = execa("prometheus", [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { reject: false, all: true });
    const launched = await waitFor("Prometheus to have scraped the launches", async () => {
      const query = encodeURIComponent('sum(demo_launcher_launches_total{job="demo-launcher",outcome="started"})');
      const result = await request(port, { path: `/api/v1/query?query=${query}` }).catch(() => undefined);
      const value = result?.status === 200 ? (JSON.parse(result.body).data.result[0]?.value?.[1] as string | undefined) : undefined;
      return value !== undefined ? Number(value) : undefined;
    }, 60_000, 500);
    expect(launched).toBe(2);

    // The lifecycle log told each step.
    expect(lines.some((line) => new RegExp(`^info launch accepted: demo ${first.id} of hello$`).test(line))).toBe(true);
    expect(lines.some((line) => new RegExp(`^info demo ${first.id} of hello ready in \\d+\\.\\d\\d s$`).test(line))).toBe(true);
    expect(lines.some((line) => line === "info launch refused: nope (unknown-app)")).toBe(true);
    expect(lines.some((line) => line === `info demo ${first.id} of hello stopped: it was stopped`)).toBe(true);
  }, 120_000);

  it("shows the admin the last lines a demo's container wrote, capped, and refuses bad counts and everyone else", async () => {
    const demo = await launchAndWait(stack, "hello");
    const logs = await stack.api("GET", `/api/demos/${demo.id}/logs?lines=5`);
    expect(logs.status).toBe(200);
    expect(logs.headers["content-type"]).toMatch(/^text\/plain/);
    expect(logs.body).toContain("guestbook listening on :8080");
    expect(logs.body.trim().split("\n").length).toBeLessThanOrEqual(5);
    for (const bad of ["0", "1001", "ten"]) expect((await stack.api("GET", `/api/demos/${demo.id}/logs?lines=${bad}`)).status).toBe(400);
    expect((await stack.api("GET", "/api/demos/zzzz9999/logs")).status).toBe(404);
    expect((await stack.viaNginx("demo.localhost", `/api/demos/${demo.id}/logs`)).status).toBe(401);
    const cli = await execa("node", [CLI, "--config", stack.configFile, "logs", demo.id, "--lines", "3"], { reject: false, all: true });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toContain("guestbook listening");
  }, 60_000);

  it("follows a launch by its request id: nginx's id on the answer, in the log's facts and on the container", async () => {
    const answer = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ app: "hello" }) });
    expect(answer.status).toBe(201);
    const requestId = String(answer.headers["x-request-id"]);
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    const { id } = JSON.parse(answer.body) as { id: string };
    await waitFor("the launch to be ready", async () => fields.some((facts) => facts.event === "ready" && facts.demo === id), 30_000, 100);
    for (const event of ["launch-accepted", "ready"]) expect(fields.find((facts) => facts.event === event && facts.demo === id)).toMatchObject({ requestId, app: "hello" });
    const [container] = await stack.docker.listContainers({ filters: { label: [`demo-launcher.id=${id}`] } });
    expect(container!.Labels["demo-launcher.request-id"]).toBe(requestId);
  }, 60_000);
});
