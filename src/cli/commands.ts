// The CLI commands; each returns an exit code and leaves process handling to main.ts.
import { stdout, type Output } from "./output.js";
import { hostChecks, type Check } from "./host-checks.js";
import { runningChecks, watcherCheck } from "./running-checks.js";
import { access, constants, mkdir, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/load.js";
import { routesRenderer, runtimeFor, startController } from "../app/controller.js";
import { previewSpecs } from "../app/previews.js";
import { namespaceChecks } from "./namespace-checks.js";
import { previewSourceChecks, sharedDemoChecks } from "./source-checks.js";
import { DEFAULT_TEMPLATES_DIR } from "../nginx/render.js";
import { consoleLogger } from "../logger.js";
import { up } from "../app/up.js";
import { startWatcher } from "../app/watcher-service.js";
import { describeError, UsageError } from "../core/errors.js";
import { formatDuration, parseDuration } from "../core/duration.js";
import { parseLabels, type Demo, type DemoView } from "../core/model.js";
import { demoRoutes } from "../core/routing/routes.js";
import { connectDocker, DockerRuntime } from "../docker/runtime.js";
import { assertSwarmManager, registryAnswers, swarmNodes } from "../swarm/nodes.js";
import type { Logger } from "../logger.js";
import { runCommandLine } from "../nginx/commands.js";
import { findNginx } from "../nginx/private-nginx.js";
import { RoutesFile } from "../nginx/routes-file.js";
import { httpReadinessProbe } from "../probe/http.js";
import { formatTable } from "./table.js";
import { callApi } from "./api-client.js";
import { systemScheduler } from "../clock/system-scheduler.js";

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let received: string | undefined;
    // The handler stays while the shutdown runs: with none left, a library that watches signals (signal-exit,
    // under execa, while a child process runs) takes the signal as unhandled and raises it again, killing us
    // half-way. A second signal stops at once, as a second Ctrl-C should.
    const onSignal = (signal: string) => {
      if (received !== undefined) process.exit(130);
      received = signal;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

export async function runUp(config: Config, logger: Logger, options: { keepDemos?: boolean }): Promise<number> {
  const handle = await up(config, logger);
  // Without a token or a provider, the console opens only for a browser on this machine talking to the controller.
  const consoleUrl = config.adminToken || config.admin.oidc ? `${handle.url}__admin/` : `${handle.controller.url}/__admin/ (from this machine)`;
  console.log(`\n  demo-launcher is up: open ${handle.url}\n  the operator's console: ${consoleUrl}\n  (Ctrl-C stops it${options.keepDemos ? "; demos keep running" : " and removes its demos"})\n`);
  const signal = await untilSignal();
  logger.info(`${signal}: shutting down`);
  await handle.close({ keepDemos: options.keepDemos ?? false });
  return 0;
}

export async function runServe(config: Config, logger: Logger): Promise<number> {
  const controller = await startController(config, { logger });
  const signal = await untilSignal();
  logger.info(`${signal}: shutting down (demos keep running and are adopted at the next start)`);
  await controller.close();
  return 0;
}

export async function runWatch(config: Config, logger: Logger, commands: { testCommand?: string; reloadCommand?: string }): Promise<number> {
  const watcher = await startWatcher(config, logger, commands);
  await untilSignal();
  await watcher.close();
  return 0;
}

async function waitForOutcome(config: Config, id: string, seconds: number): Promise<DemoView> {
  const deadline = systemScheduler.now() + seconds * 1000;
  for (;;) {
    const { data } = await callApi(config, "GET", `/api/demos/${id}`);
    const view = data as DemoView;
    if (view.status !== "starting" || systemScheduler.now() > deadline) return view;
    await systemScheduler.sleep(250);
  }
}

export async function runLaunch(config: Config, app: string | undefined, options: { json?: boolean; wait?: number }, out: Output = stdout): Promise<number> {
  const appName = app ?? Object.keys(config.apps)[0];
  const { data } = await callApi(config, "POST", "/api/demos", { app: appName });
  let view = data as DemoView;
  if (options.wait) view = await waitForOutcome(config, view.id, options.wait);
  if (options.json) out.line(JSON.stringify(view, null, 2));
  else out.line(`${view.id}  ${view.status}  ${view.url}  (${timeLeft(view)})${view.reason ? `\n  reason: ${view.reason}` : ""}`);
  return view.status === "failed" ? 1 : 0;
}

export async function runList(config: Config, options: { json?: boolean }, out: Output = stdout): Promise<number> {
  const { data } = await callApi(config, "GET", "/api/demos");
  const demos = (data as { demos: DemoView[] }).demos;
  if (options.json) {
    out.line(JSON.stringify(demos, null, 2));
    return 0;
  }
  if (demos.length === 0) out.line("no live demos");
  else out.line(formatTable(["ID", "KIND", "APP", "STATUS", "LEFT", "URL"], demos.map((demo) => [demo.id, demo.kind, demo.app, demo.status, timeLeft(demo), demo.url])));
  return 0;
}

/** What is left of a demo's time box; a shared demo has none, and says when it is next reset. */
function timeLeft(demo: DemoView): string {
  if (demo.secondsLeft === undefined) return demo.nextResetAt ? `shared, next reset ${demo.nextResetAt.slice(0, 16).replace("T", " ")} UTC` : "shared, no time box";
  return `${formatDuration(demo.secondsLeft * 1000)} left`;
}

export async function runStop(config: Config, id: string, out: Output = stdout): Promise<number> {
  await callApi(config, "DELETE", `/api/demos/${encodeURIComponent(id)}`);
  out.line(`stopped ${id}`);
  return 0;
}

/** The last lines a demo's container printed (admin). */
export async function runLogs(config: Config, id: string, options: { lines?: number }, out: Output = stdout): Promise<number> {
  const { data } = await callApi(config, "GET", `/api/demos/${encodeURIComponent(id)}/logs?lines=${options.lines ?? 200}`, undefined, "text");
  out.write(String(data));
  return 0;
}

export async function runExtend(config: Config, id: string, by: string, out: Output = stdout): Promise<number> {
  // Said in the CLI's words before any call: the API would answer about its JSON body.
  if (parseDuration(by) === undefined) throw new UsageError(`extend: ${JSON.stringify(by)} is not a duration; give a number and a unit (s, m, h, d), such as 30m or 2h`);
  const { data } = await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/extend`, { by });
  const demo = data as { secondsLeft: number; expiresAt: string };
  out.line(`extended ${id}: ${formatDuration(demo.secondsLeft * 1000)} left (until ${demo.expiresAt})`);
  return 0;
}

/** Starts a replacement; with --wait, follows it and exits non-zero when it failed (the old instance serves on). */
export async function runReplace(config: Config, id: string, options: { image?: string; wait?: number }, out: Output = stdout): Promise<number> {
  const { data } = await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/replace`, options.image ? { image: options.image } : {});
  let view = data as DemoView;
  const image = view.replacement?.image ?? options.image ?? "";
  if (options.wait) {
    const deadline = systemScheduler.now() + options.wait * 1000;
    while (view.replacement?.status === "running" && systemScheduler.now() < deadline) {
      await systemScheduler.sleep(250);
      view = (await callApi(config, "GET", `/api/demos/${encodeURIComponent(id)}`)).data as DemoView;
    }
  }
  const outcome = view.replacement;
  if (!options.wait || !outcome) out.line(`replacing ${id} with ${image}; follow it with \`demo-launcher ls\` or GET /api/demos/${id}`);
  else if (outcome.status === "succeeded") out.line(`replaced ${id}: now served by ${outcome.image}`);
  else if (outcome.status === "failed") out.line(`replacing ${id} failed, the old instance keeps serving: ${outcome.reason ?? "no reason given"}`);
  else out.line(`replacing ${id} is still running after ${options.wait}s`);
  return outcome?.status === "failed" || (options.wait && outcome?.status === "running") ? 1 : 0;
}

/** What the routes file holds for the demos Docker runs now whose app answers. */
export async function runRender(config: Config, out: Output = stdout): Promise<number> {
  // The config's runtime: on a swarm the demos are services, listed through the manager.
  const runtime = await runtimeFor(config, connectDocker(), true, { readOnly: true });
  const routesFile = new RoutesFile(config.nginx.configDir, config.nginx.controller, routesRenderer(config, DEFAULT_TEMPLATES_DIR, consoleLogger("render")));
  const containers = await runtime.list(config.namespace);
  const demos = new Map<string, Demo>();
  await Promise.all(
    containers.map(async (container) => {
      const labels = parseLabels(container.labels);
      if (!labels || container.state !== "running" || !container.endpoint) return;
      const readinessPath = config.apps[labels.demo.app]?.readiness.path ?? "/";
      if (!(await httpReadinessProbe(container.endpoint, readinessPath))) return;
      const demo = demos.get(labels.demo.id) ?? { ...labels.demo, status: "ready" as const, step: "done" as const, instances: [] };
      demo.instances.push({ ...labels.instance, containerId: container.containerId, endpoint: container.endpoint, health: "healthy" });
      demos.set(demo.id, demo);
    }),
  );
  const { generation } = await routesFile.readCurrent();
  const previews = previewSpecs(config);
  out.write(routesFile.render(demoRoutes(demos.values(), systemScheduler.now(), (demo) => (demo.kind === "preview" ? previews[demo.app] : config.apps[demo.app])), generation));
  return 0;
}

/** runtime: swarm: the manager, the registry, and one line per node with its demos and free capacity. */
async function swarmChecks(config: Config, docker: ReturnType<typeof connectDocker>): Promise<Check[]> {
  const checks: Check[] = [];
  const addresses: string[] = [];
  try {
    await assertSwarmManager(docker);
    checks.push({ name: "swarm", ok: true, detail: "this Docker daemon is a swarm manager" });
    for (const node of await swarmNodes(docker, config.namespace)) {
      addresses.push(node.address);
      const ok = node.state === "ready";
      checks.push({ name: `node ${node.hostname}`.slice(0, 14), ok, detail: `${node.address} ${node.role}, ${node.state}, ${node.availability}: ${node.demos} demo(s), free ${node.freeCpus} CPUs and ${(node.freeMemoryBytes / 1024 ** 3).toFixed(1)} GiB` });
    }
  } catch (error) {
    checks.push({ name: "swarm", ok: false, detail: describeError(error) });
  }
  if (config.swarm.registry) checks.push({ name: "registry", ...(await registryAnswers(config.swarm.registry)) });
  else checks.push({ name: "registry", ok: true, detail: "none configured: every node must have the demo images already" });
  // Each node's own rules: no Docker API shows a node's iptables, so this is a reminder, not a pass.
  checks.push({ name: "demo ports", ok: "not checked", detail: `run scripts/swarm-firewall.sh --check <nginx address> ${config.ports.from}:${config.ports.to} on each node${addresses.length ? ` (${addresses.join(", ")})` : ""} so demos answer nginx alone` });
  return checks;
}


export async function runDoctor(config: Config, out: Output = stdout): Promise<number> {
  const checks: Check[] = [];
  const docker = connectDocker();
  try {
    const version = await docker.version();
    checks.push({ name: "docker", ok: true, detail: `Docker ${version.Version} answers` });
    checks.push(...(await namespaceChecks(config, docker, systemScheduler.now())));
    const runtime = new DockerRuntime(docker);
    for (const [name, app] of Object.entries(config.apps)) {
      const present = await runtime.imageExists(app.image);
      checks.push({ name: `image ${name}`, ok: present, detail: present ? `${app.image} is present` : `${app.image} is missing (\`demo-launcher up\` builds the sample; build others yourself)` });
    }
    checks.push(...(await sharedDemoChecks(config, docker)));
  } catch (error) {
    checks.push({ name: "docker", ok: false, detail: `not reachable: ${describeError(error)}` });
  }
  try {
    const binary = await findNginx();
    checks.push({ name: "nginx", ok: true, detail: `found at ${binary}` });
    const test = await runCommandLine(config.nginx.testCommand);
    checks.push({ name: "nginx config", ok: test.ok, detail: test.ok ? `\`${config.nginx.testCommand}\` passes` : `\`${config.nginx.testCommand}\` fails: ${test.output.split("\n")[0]}` });
  } catch (error) {
    checks.push({ name: "nginx", ok: false, detail: describeError(error) });
  }
  try {
    await mkdir(config.nginx.configDir, { recursive: true });
    const probe = path.join(config.nginx.configDir, `.doctor-${process.pid}`);
    await writeFile(probe, "");
    await unlink(probe);
    await access(config.nginx.configDir, constants.W_OK);
    checks.push({ name: "config dir", ok: true, detail: `${config.nginx.configDir} is writable` });
  } catch (error) {
    checks.push({ name: "config dir", ok: false, detail: `${config.nginx.configDir} is not writable: ${describeError(error)}` });
  }
  checks.push(...(await previewSourceChecks(config)));
  if (config.runtime === "swarm") checks.push(...(await swarmChecks(config, docker)));
  checks.push(...(await hostChecks(config, docker).catch((error): Check[] => [{ name: "host", ok: false, detail: `Docker did not describe the host: ${describeError(error)}` }])));
  const running = await runningChecks(config);
  checks.unshift(...running.checks);
  checks.push(await watcherCheck(config, running.nginxRunning));
  const mark = { "not checked": "??  ", warn: "WARN", off: "off " } as const;
  for (const check of checks) out.line(`${typeof check.ok === "string" ? mark[check.ok] : check.ok ? "ok  " : "FAIL"}  ${check.name.padEnd(14)} ${check.detail}`);
  return checks.every((check) => check.ok !== false) ? 0 : 1;
}
