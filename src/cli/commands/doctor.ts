// `doctor`: checks Docker, the images, nginx, the config dir, the watcher, namespaces, sources and the host's defences.
import { prepareEnvironments } from "../../app/environments.js";
import { registryOf } from "../../docker/pull.js";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { access, constants, mkdir, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { hostChecks, type Check } from "../checks/host.js";
import { runningChecks, watcherCheck } from "../checks/running.js";
import { namespaceChecks } from "../checks/namespaces.js";
import { previewSourceChecks, sharedDemoChecks } from "../checks/sources.js";
import { swarmChecks } from "../checks/swarm.js";
import { tlsCheck } from "../checks/tls.js";
import { describeError } from "../../core/errors.js";
import { connectDocker, DockerRuntime } from "../../docker/runtime.js";
import { runCommandLine } from "../../nginx/commands.js";
import { findNginx } from "../../nginx/private-nginx.js";
import { systemScheduler } from "../../clock/system-scheduler.js";

export function defineDoctor(program: Command, cli: CliContext): void {
  program
    .command("doctor")
    .summary("check Docker, nginx, the config dir and the watcher")
    .description("check Docker, the images, nginx and its config, the config dir, the watcher's last error, the HTTPS certificate and its renewals, every namespace in use on the host, preview sources and shared demos, and how demos are held in: disk budget mode, free disk, seccomp, AppArmor, user namespaces, egress rules, build limits")
    .action(cli.withConfig((config) => runDoctor(config, cli.out), { client: true }));
}

export async function runDoctor(config: Config, out: Output = stdout): Promise<number> {
  const checks: Check[] = [];
  const docker = connectDocker();
  try {
    const version = await docker.version();
    checks.push({ name: "docker", ok: true, detail: `Docker ${version.Version} answers` });
    checks.push(...(await namespaceChecks(config, docker, systemScheduler.now())));
    const runtime = new DockerRuntime(docker);
    const prepared = await prepareEnvironments(config).then(
      (ready) => ready,
      (error: Error) => (checks.push({ name: "compose", ok: false, detail: error.message }), config),
    );
    for (const [name, app] of Object.entries(prepared.apps)) {
      if (app.compose && !app.serviceImages) continue;
      for (const [service, image] of Object.entries(app.serviceImages ?? { "": app.image })) {
        const present = await runtime.imageExists(image);
        const what = service ? `image ${name}/${service}` : `image ${name}`;
        const detail = present ? `${image} is present` : service ? `${image} is not here yet: the first launch pulls it from ${registryOf(image)}` : `${image} is missing (\`demo-launcher up\` builds the sample; build others yourself)`;
        checks.push({ name: what, ok: present || Boolean(service), detail });
      }
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
  const tls = await tlsCheck(config, systemScheduler.now());
  if (tls) checks.push(tls);
  const mark = { "not checked": "??  ", warn: "WARN", off: "off " } as const;
  for (const check of checks) out.line(`${typeof check.ok === "string" ? mark[check.ok] : check.ok ? "ok  " : "FAIL"}  ${check.name.padEnd(14)} ${check.detail}`);
  return checks.every((check) => check.ok !== false) ? 0 : 1;
}
