// `render`: the routes file for the demos Docker (or the swarm) runs now whose app answers.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { routesRenderer, runtimeFor } from "../../app/controller.js";
import { ownHostsOf } from "../../config/own-hosts.js";
import { previewSpecs } from "../../app/previews.js";
import { DEFAULT_TEMPLATES_DIR } from "../../nginx/render.js";
import { consoleLogger } from "../../logger.js";
import { parseLabels, type Demo } from "../../core/model.js";
import { demoRoutes } from "../../core/routing/routes.js";
import { connectDocker } from "../../docker/runtime.js";
import { RoutesFile } from "../../nginx/routes-file.js";
import { CertificateStore } from "../../tls/certificate-files.js";
import { routesTlsOf } from "../../app/tls.js";
import { httpReadinessProbe } from "../../probe/http.js";
import { systemScheduler } from "../../clock/system-scheduler.js";
import { accessPolicyOf } from "../../app/access.js";
import { gateFor } from "../../core/access/access-desk.js";
import { AccessFile } from "../../state/access-file.js";

export function defineRender(program: Command, cli: CliContext): void {
  program
    .command("render")
    .description("print the routes file for the demos Docker runs now")
    .action(cli.withConfig((config) => runRender(config, cli.out), { client: true }));
}

/** What the routes file holds for the demos Docker runs now whose app answers. */
export async function runRender(config: Config, out: Output = stdout): Promise<number> {
  // The config's runtime: on a swarm the demos are services, listed through the manager.
  const runtime = await runtimeFor(config, connectDocker(), true, { readOnly: true });
  // With tls: the pair the controller last saw served, as it names it.
  const pair = config.tls ? await new CertificateStore(config.nginx.configDir).current() : undefined;
  const tls = config.tls ? () => routesTlsOf(pair, config.tls!) : undefined;
  const routesFile = new RoutesFile(config.nginx.configDir, config.nginx.controller, routesRenderer(config, DEFAULT_TEMPLATES_DIR, consoleLogger("render"), tls));
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
  // Gated hosts get the gate the controller gave them (its access file keeps each demo's epoch).
  const epochs = (await new AccessFile(config.stateDir, consoleLogger("render"), true).load().catch(() => undefined))?.epochs ?? {};
  const policyOf = accessPolicyOf(config);
  out.write(routesFile.render(demoRoutes(demos.values(), systemScheduler.now(), (demo) => (demo.kind === "preview" ? previews[demo.app] : config.apps[demo.app]), (demo) => gateFor(policyOf(demo), epochs[demo.id]), (demo) => ownHostsOf(config, demo)), generation));
  return 0;
}
