// Demos in a user namespace (dockerd --userns-remap=default), the documented way: they launch, serve, are
// snapshotted and reached by exec (what rewinds use) as usual, and root inside is an unprivileged uid outside.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { buildSampleImage, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { containerOf, execIn } from "../support/container-exec.js";
import { ensureRootHello, ROOT_HELLO } from "../support/root-image.js";
import { CLI, startStack, waitFor, type Stack } from "../support/stack.js";
import { appYaml, demoStatus, launch, served } from "./common.js";
import { PrivateDockerd, runIfMain, runInOwnNetns } from "./private-dockerd.js";
import { Checks, type Row } from "./report.js";

export function userNamespaces(log: (line: string) => void): Promise<Row[]> {
  return runInOwnNetns(fileURLToPath(import.meta.url), [], log);
}

async function insideNamespace(log: (line: string) => void): Promise<Row[]> {
  const daemon = await PrivateDockerd.start(["--userns-remap=default"]);
  process.env.DOCKER_HOST = daemon.host;
  let stack: Stack | undefined;
  const checks = new Checks();
  let detail = "";
  try {
    if (!(await sampleImageIsCurrent(daemon.docker))) await buildSampleImage(daemon.docker);
    await ensureRootHello();
    stack = await startStack({ controller: "child", dockerHost: daemon.host, docker: daemon.docker, appsYaml: appYaml("hello", { image: ROOT_HELLO, ttl: "30m" }) });
    const id = await launch(stack, "hello");
    const view = await waitFor(`demo ${id} ready`, async () => ((await demoStatus(stack!, id))?.status === "ready" ? demoStatus(stack!, id) : undefined), 60_000);
    checks.that(await served(stack, view!.host), "the demo is not served through nginx");
    const container = await containerOf(daemon.docker, id);
    const inspect = await daemon.docker.getContainer(container).inspect();
    // Inside: root. Outside: the remapped uid from /etc/subuid (dockremap's range).
    const inside = (await execIn(daemon.docker, container, ["/bin/sh", "-c", "id -u"])).trim();
    const outsideUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${inspect.State.Pid}/status`, "utf8"))?.[1]);
    const range = /^dockremap:(\d+):(\d+)/m.exec(await readFile("/etc/subuid", "utf8"));
    checks.that(inside === "0", `inside the demo the app runs as ${inside}, not root`);
    checks.that(range !== null && outsideUid >= Number(range[1]) && outsideUid < Number(range[1]) + Number(range[2]), `outside, the app runs as uid ${outsideUid}, not in dockremap's range ${range?.[1]}+${range?.[2]}`);
    // What rewinds need: a command inside the demo, and a snapshot (commit) of it.
    await daemon.docker.getContainer(container).commit({ repo: "demo-launcher-test/userns-snapshot", tag: "t" });
    checks.that((await daemon.docker.getImage("demo-launcher-test/userns-snapshot:t").inspect()).Id.length > 0, "a snapshot could not be saved");
    const doctor = await execa("node", [CLI, "--config", stack.configFile, "doctor"], { reject: false, all: true, env: { DOCKER_HOST: daemon.host } });
    checks.that(/ok {4}userns {9}demos run in a user namespace/.test(doctor.all ?? ""), `doctor did not see the user namespace: ${(doctor.all ?? "").split("\n").find((line) => line.includes("userns")) ?? "no userns line"}`);
    const ended = await stack.api("DELETE", `/api/demos/${id}`);
    checks.that(ended.status === 204, `stopping it answered ${ended.status}`);
    detail = `root inside = uid ${outsideUid} outside (dockremap ${range?.[1]}+${range?.[2]}); served through nginx; exec and snapshot work; doctor: ok userns`;
    log(`  ${detail}`);
  } finally {
    await stack?.close();
    await daemon.stop();
  }
  return [{ fault: "demos in a user namespace (userns-remap)", injected: 1, survived: checks.failures.length ? 0 : 1, lost: 0, detail: `${detail}${checks.summary()}` }];
}

runIfMain(import.meta.url, (_args, log) => insideNamespace(log));
