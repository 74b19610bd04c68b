// A hostile tenant: from inside a demo (run as root), try to hurt the host and the neighbours. Each row says what
// was tried, what held, what a well-behaved neighbour saw meanwhile, and the host's free disk before and after.
import { rm, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import net from "node:net";
import os from "node:os";
import { execa } from "execa";
import { containerOf, execIn } from "../support/container-exec.js";
import { ensureRootHello, ROOT_HELLO } from "../support/root-image.js";
import { makeWorkRepo, type WorkRepo } from "../support/git-repo.js";
import { namespaceContainers, request, startStack, waitFor, type Stack } from "../support/stack.js";
import { CHAOS_IMAGE, ensureChaosImage, Neighbour } from "./bad-apps.js";
import { appYaml, demoStatus, launch, percentile, sleep } from "./common.js";
import { Checks, type Row } from "./report.js";

const GiB = 1024 ** 3;
const DISK_BUDGET = "256m";
const PIDS = 128;
const PER_NETWORK = 4;
/** What a hostile preview build gets: its whole size, its processes together, and its time. */
const BUILD_DISK = "1g";
const BUILD_PIDS = 256;
const BUILD_TIMEOUT_S = 30;

/** One branch per build attack, each a Dockerfile of RUN steps on busybox (the repo carries its binary). */
const BUILD_ATTACKS = (hostPort: number) => ({
  "reach-host": `for ip in $(/bin/busybox ip route | /bin/busybox awk '/default/ {print $3}') $HOST_ADDRESS; do if echo | /bin/busybox nc -w 2 $ip ${hostPort} | /bin/busybox grep -q host-secret; then echo REACHED-$ip; else echo KEPT-OUT-$ip; fi; done`,
  "big-layer": "/bin/busybox dd if=/dev/zero of=/big bs=1M count=3000",
  // The bomb runs beside the step; the step reads its own process count with builtins only, then ends (and the bomb with it).
  "fork-bomb": "(b() { b & b & /bin/busybox sleep 100000; }; b) & /bin/busybox sleep 8; read n < /sys/fs/cgroup/pids/pids.current; echo PIDS=$n",
  "never-ends": "/bin/busybox sleep 100000",
});

async function buildRepo(dir: string, hostAddress: string, hostPort: number): Promise<WorkRepo> {
  const work = await makeWorkRepo(dir);
  // Docker's build cache would answer a step seen in an earlier run without running it: each run's steps are new.
  const runId = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  for (const [branch, line] of Object.entries(BUILD_ATTACKS(hostPort))) {
    await work.git(["checkout", "-q", "-B", branch, "main"]);
    await writeFile(path.join(dir, "Dockerfile"), `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", ${JSON.stringify(`${line.replace("$HOST_ADDRESS", hostAddress)} # run ${runId}`)}]\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/"]\n`);
    await work.git(["commit", "-q", "-am", branch]);
  }
  await work.git(["checkout", "-q", "main"]);
  return work;
}

async function hostDisk(): Promise<{ free: number; inodes: number }> {
  const stats = await statfs((await execa("docker", ["info", "-f", "{{.DockerRootDir}}"])).stdout.trim());
  return { free: stats.bavail * stats.bsize, inodes: stats.ffree };
}
const gb = (bytes: number) => `${(bytes / GiB).toFixed(2)} GB`;

export async function hostileTenant(log: (line: string) => void): Promise<Row[]> {
  await ensureRootHello();
  const hostAddress = Object.values(os.networkInterfaces()).flat().find((entry) => entry && entry.family === "IPv4" && !entry.internal && !/^172\.(1[6-9]|2\d|3[01])\./.test(entry.address))?.address ?? "127.0.0.1";
  // Something else the host runs, listening on every address (a database, an exporter).
  const hostService = net.createServer((socket) => socket.end("host-secret\n"));
  await new Promise<void>((resolve) => hostService.listen(0, "0.0.0.0", resolve));
  const hostPort = (hostService.address() as net.AddressInfo).port;
  const repo = await buildRepo(path.join(os.tmpdir(), `dl-chaos-builds-${process.pid}`), hostAddress, hostPort);
  const stack = await startStack({
    extraYaml: `previews:\n  hostile: { repo: "file://${repo.dir}", port: 8080 }\nbuilds: { disk: ${BUILD_DISK}, pids: ${BUILD_PIDS}, timeout: ${BUILD_TIMEOUT_S}s }`,
    controller: "child",
    beforeStart: ensureChaosImage,
    appsYaml: [
      appYaml("good", { ttl: "30m" }),
      `${appYaml("evil", { image: ROOT_HELLO, ttl: "30m", pids: PIDS })}\n    disk: ${DISK_BUDGET}`,
      appYaml("stubborn", { image: CHAOS_IMAGE, ttl: "20s", env: { MODE: "ignore-term" } }),
    ].join("\n"),
    limitsYaml: `limits: { maxDemos: 40, perClient: 1, queueLength: 0, launchesPerClient: 100, perNetwork: { demos: ${PER_NETWORK}, launches: 100 } }`,
  });
  const rows: Row[] = [];
  const ready = async (app: string) => {
    const id = await launch(stack, app);
    return waitFor(`demo ${id} ready`, async () => {
      const view = await demoStatus(stack, id);
      return view?.status === "ready" ? view : undefined;
    }, 30_000);
  };
  let neighbour: Neighbour | undefined;
  try {
    const good = await ready("good");
    neighbour = new Neighbour(stack, good.host);
    const goodIp = (await stack.docker.getContainer(await containerOf(stack.docker, good.id)).inspect()).NetworkSettings.Networks["demo-launcher"]!.IPAddress;
    let evil = await ready("evil");
    let evilContainer = await containerOf(stack.docker, evil.id);
    const gateway = (await stack.docker.getContainer(evilContainer).inspect()).NetworkSettings.Networks["demo-launcher"]!.Gateway;
    const inside = (line: string) => execIn(stack.docker, evilContainer, ["/bin/sh", "-c", `${line}; echo "exit=$?"`]).catch((error: Error) => error.message);
    /** A TCP connection from inside the demo: what it answered, or that it could not. */
    const connect = async (ip: string, port: number, send = "") => {
      const answer = await inside(`printf '${send}' | nc -w 2 ${ip} ${port} 2>&1`);
      return { reached: !/exit=1/.test(answer) && answer.replace(/exit=\d+/, "").trim().length > 0, answer };
    };

    const attack = async (fault: string, work: (checks: Checks) => Promise<string>): Promise<void> => {
      log(`  ${fault}`);
      const before = await hostDisk();
      const from = neighbour!.latencies.length;
      const failedBefore = neighbour!.failures;
      const checks = new Checks();
      let held = "";
      try {
        held = await work(checks);
      } catch (error) {
        checks.that(false, `aborted: ${(error as Error).message}`);
      }
      const after = await hostDisk();
      const latencies = neighbour!.latencies.slice(from);
      const failed = neighbour!.failures - failedBefore;
      checks.that(failed === 0, `the neighbour saw ${failed} failed request(s): ${neighbour!.lastFailure.slice(0, 80)}`);
      checks.that(before.free - after.free < GiB / 2, `the host lost ${gb(before.free - after.free)} of free disk`);
      rows.push({
        fault: `tenant: ${fault}`,
        injected: 1,
        survived: checks.failures.length === 0 ? 1 : 0,
        lost: failed,
        detail: `${held}; neighbour: ${latencies.length} requests, ${failed} failed, p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms; host free disk ${gb(before.free)} → ${gb(after.free)}${checks.summary()}`,
      });
    };

    await attack("fill the disk (dd, file after file)", async (checks) => {
      const started = Date.now();
      await execa("docker", ["exec", "-d", evilContainer, "sh", "-c", "i=0; while dd if=/dev/zero of=/tmp/fill$i bs=1M count=200 2>/dev/null; do i=$((i+1)); done"]);
      const ended = await waitFor("the filler to be ended", async () => {
        const view = await stack.api("GET", `/api/demos/${evil.id}`);
        const parsed = JSON.parse(view.body) as { status: string; reason?: string };
        return parsed.status === "failed" ? parsed : undefined;
      }, 60_000).catch(() => undefined);
      const seconds = (Date.now() - started) / 1000;
      checks.that(/more than its disk budget of 256 MB/.test(ended?.reason ?? ""), `it was not ended for its disk use: ${ended?.reason ?? "still running"}`);
      await waitFor("its container to go", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === evil.id), 20_000).catch(() => checks.that(false, "its container is still there"));
      evil = await ready("evil");
      evilContainer = await containerOf(stack.docker, evil.id);
      return `ended after ${seconds.toFixed(1)} s: '${ended?.reason ?? "?"}'`;
    });

    await attack("exhaust file descriptors", async (checks) => {
      // One process holds every file open at once (tail -f); past its limit the kernel says "Too many open files".
      const answer = await inside('mkdir -p /tmp/fds && cd /tmp/fds && i=0; while [ $i -lt 10000 ]; do : > f$i; i=$((i+1)); done; timeout 2 tail -q -f f* 2>/tmp/fds.err >/dev/null; echo "refused=$(grep -c "Too many open files" /tmp/fds.err)"');
      const refused = Number(/refused=(\d+)/.exec(answer)?.[1] ?? -1);
      const opened = 10_000 - refused;
      checks.that(refused > 0 && opened <= 4096, `it opened ${opened} of 10,000 files (${answer.slice(0, 80)})`);
      const host = await execa("true", [], { reject: false });
      checks.that(host.exitCode === 0, "the host could not start a process");
      return `one process held ${opened} of 10,000 files open, the rest refused (nofile 4096)`;
    });

    await attack("exhaust inodes (50,000 empty files)", async (checks) => {
      const before = (await hostDisk()).inodes;
      const answer = await inside("mkdir -p /tmp/n && cd /tmp/n && i=0; while [ $i -lt 50000 ]; do : > f$i || break; i=$((i+1)); done; echo made=$i");
      const during = (await hostDisk()).inodes;
      checks.that(/made=50000/.test(answer), `it made ${/made=(\d+)/.exec(answer)?.[1] ?? "?"} files`);
      checks.that((await stack.api("DELETE", `/api/demos/${evil.id}`)).status === 204, "stopping it failed");
      await waitFor("its container to go", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === evil.id), 20_000);
      const after = (await hostDisk()).inodes;
      checks.that(before - after < 5000, `the host kept ${before - after} of its inodes after the demo ended`);
      evil = await ready("evil");
      evilContainer = await containerOf(stack.docker, evil.id);
      return `50,000 files took ${before - during} host inodes while it ran (the time box ends it; launches stop below 5% of inodes), all back after it ended (${before} → ${after})`;
    });

    await attack("fork-bomb", async (checks) => {
      await execa("docker", ["exec", "-d", evilContainer, "sh", "-c", "b() { b & b & sleep 100000; }; b"]);
      await sleep(3000);
      const stats = (await stack.docker.getContainer(evilContainer).stats({ stream: false })) as { pids_stats?: { current?: number } };
      const pids = stats.pids_stats?.current ?? -1;
      checks.that(pids > 0 && pids <= PIDS, `it runs ${pids} processes (limit ${PIDS})`);
      const forkStarted = Date.now();
      await execa("true");
      const forkMs = Date.now() - forkStarted;
      checks.that(forkMs < 2000, `the host took ${forkMs} ms to start a process`);
      checks.that((await stack.api("GET", "/healthz")).status === 200, "the controller stopped answering");
      checks.that((await stack.api("DELETE", `/api/demos/${evil.id}`)).status === 204, "stopping it failed");
      evil = await ready("evil");
      evilContainer = await containerOf(stack.docker, evil.id);
      return `held at ${pids}/${PIDS} processes; the host started a process in ${forkMs} ms`;
    });

    await attack("open raw sockets (ping as root)", async (checks) => {
      const answer = await inside("id -u; ping -c 1 -W 1 127.0.0.1 2>&1");
      checks.that(/^0\n/.test(answer) && /permission denied/i.test(answer), `ping as root: ${answer.slice(0, 100)}`);
      return "refused: NET_RAW is not among the capabilities";
    });

    await attack("reach the neighbour demo directly", async (checks) => {
      const { reached, answer } = await connect(goodIp, 8080, "GET / HTTP/1.0\\r\\n\\r\\n");
      checks.that(!reached, `reached ${goodIp}:8080: ${answer.slice(0, 80)}`);
      return `${goodIp}:8080 did not answer (inter-container traffic off)`;
    });

    await attack("reach the controller, the Docker API and the host's nginx", async (checks) => {
      const targets: Array<[string, number, string]> = [
        [gateway, stack.config.listen.port, "controller"],
        [hostAddress, stack.config.listen.port, "controller"],
        [gateway, 2375, "Docker API"],
        [gateway, stack.nginxPort, "nginx"],
        [hostAddress, stack.nginxPort, "nginx"],
      ];
      for (const [ip, port, what] of targets) {
        const { reached, answer } = await connect(ip, port, `GET /api/demos HTTP/1.0\\r\\nHost: ${good.host}\\r\\n\\r\\n`);
        checks.that(!reached, `reached the ${what} at ${ip}:${port}: ${answer.slice(0, 80)}`);
      }
      const socket = await inside("ls /var/run/docker.sock /run/docker.sock 2>&1");
      checks.that(/No such file/.test(socket) && !/exit=0/.test(socket), `the Docker socket is visible: ${socket.slice(0, 80)}`);
      return `none of ${targets.length} tries answered (gateway ${gateway}, host ${hostAddress}; forged Host: ${good.host}); no Docker socket inside`;
    });

    await attack("reach the host's other listening ports", async (checks) => {
      const fromHost = await new Promise<string>((resolve) => net.connect(hostPort, hostAddress).on("data", (data) => resolve(String(data))).on("error", (error) => resolve(error.message)));
      checks.that(fromHost === "host-secret\n", `the control failed: the host's service did not answer the host (${fromHost})`);
      for (const ip of [gateway, hostAddress]) {
        const { reached, answer } = await connect(ip, hostPort);
        checks.that(!reached, `reached the host's service at ${ip}:${hostPort}: ${answer.slice(0, 80)}`);
      }
      return `a service on 0.0.0.0:${hostPort} answered the host, not the demo (on ${gateway} and ${hostAddress})`;
    });

    await attack(`take every slot from 72 addresses in three /24s`, async (checks) => {
      const statuses: number[] = [];
      const ids: string[] = [];
      for (const prefix of ["203.0.113", "198.51.100", "192.0.2"]) {
        for (let host = 1; host <= 24; host += 1) {
          const answer = await request(stack.config.listen.port, { host: "demo.localhost", method: "POST", path: "/api/demos", body: '{"app":"good"}', headers: { "content-type": "application/json", "x-real-ip": `${prefix}.${host}` } });
          statuses.push(answer.status);
          if (answer.status === 201) ids.push((JSON.parse(answer.body) as { id: string }).id);
        }
      }
      const accepted = statuses.filter((status) => status === 201).length;
      checks.that(accepted <= 3 * PER_NETWORK, `${accepted} launches were accepted`);
      checks.that(statuses.every((status) => status === 201 || status === 429), `answers other than 201 and 429: ${[...new Set(statuses)].join(", ")}`);
      const fresh = await request(stack.config.listen.port, { host: "demo.localhost", method: "POST", path: "/api/demos", body: '{"app":"good"}', headers: { "content-type": "application/json", "x-real-ip": "100.100.7.7" } });
      checks.that(fresh.status === 201, `a visitor from another network was refused: ${fresh.status} ${fresh.body.slice(0, 80)}`);
      if (fresh.status === 201) ids.push((JSON.parse(fresh.body) as { id: string }).id);
      for (const id of ids) await stack.api("DELETE", `/api/demos/${id}`);
      return `${accepted} of 72 accepted (${PER_NETWORK} per network), the rest 429; the next visitor from elsewhere got a demo`;
    });

    await attack("keep running past its time box by ignoring SIGTERM", async (checks) => {
      const stubborn = await ready("stubborn");
      const expiresAt = Date.parse(stubborn.expiresAt!);
      const gone = await waitFor("the stubborn demo's container to go", async () => !(await namespaceContainers(stack.docker, stack.namespace)).some((info) => info.Labels["demo-launcher.id"] === stubborn.id), 60_000).then(() => Date.now(), () => undefined);
      checks.that(gone !== undefined && gone - expiresAt < 5000, `its container outlived its time box by ${gone === undefined ? "more than a minute" : `${gone - expiresAt} ms`}`);
      return `removed ${gone === undefined ? "?" : ((gone - expiresAt) / 1000).toFixed(1)} s after its time box ended (killed, not asked)`;
    });

    /** Builds a branch of the hostile repo through the API; answers the build's end and its log. */
    const build = async (branch: string) => {
      const asked = await stack.api("POST", "/api/builds", { source: "hostile", branch });
      const id = (JSON.parse(asked.body) as { id: string }).id;
      const ended = await waitFor(`build ${branch} to end`, async () => {
        const view = JSON.parse((await stack.api("GET", `/api/builds/${id}`)).body) as { state: string; reason?: string };
        return ["ready", "failed", "timed-out", "cancelled"].includes(view.state) ? view : undefined;
      }, (BUILD_TIMEOUT_S + 60) * 1000);
      return { ...ended, log: (await stack.api("GET", `/api/builds/${id}/log`)).body };
    };
    const stepContainersLeft = async () => (await stack.docker.listContainers({ all: true })).filter((info) => /sleep 100000|dd if=\/dev\/zero of=\/big/.test(info.Command)).length;

    await attack("build: a RUN step knocks on the host's services", async (checks) => {
      const result = await build("reach-host");
      checks.that(result.state === "ready", `the build ended ${result.state}: ${result.reason ?? ""}`);
      checks.that(!/^REACHED/m.test(result.log), `a step reached the host: ${/^REACHED.*$/m.exec(result.log)?.[0]}`);
      const kept = result.log.match(/^KEPT-OUT-\S+/gm) ?? [];
      checks.that(kept.length === 2, `tried ${kept.length} of 2 addresses: ${result.log.slice(-200)}`);
      return `${kept.map((line) => line.replace("KEPT-OUT-", "")).join(" and ")} kept out (the builds' network drops the host and private ranges)`;
    });

    await attack("build: a RUN step writes a 3 GB layer", async (checks) => {
      const result = await build("big-layer");
      checks.that(result.state === "failed" && /builds\.disk/.test(result.reason ?? ""), `the build ended ${result.state}: ${result.reason ?? ""}`);
      checks.that((await stepContainersLeft()) === 0, "its step container is still there");
      return `stopped: '${result.reason ?? "?"}'`;
    });

    await attack("build: a fork bomb in a RUN step", async (checks) => {
      const started = Date.now();
      const result = await build("fork-bomb");
      const pids = Number(/^PIDS=(\d+)/m.exec(result.log)?.[1] ?? -1);
      checks.that(pids > 0 && pids <= BUILD_PIDS, `its step ran ${pids} processes (limit ${BUILD_PIDS}): ${result.state} ${result.reason ?? ""}`);
      checks.that(result.state === "ready", `the build ended ${result.state}: ${result.reason ?? ""}`);
      const forkStarted = Date.now();
      await execa("true");
      const forkMs = Date.now() - forkStarted;
      checks.that(forkMs < 2000, `the host took ${forkMs} ms to start a process`);
      checks.that((await stack.api("GET", "/healthz")).status === 200, "the controller stopped answering");
      return `held at ${pids}/${BUILD_PIDS} processes for the build; it ended ${result.state} in ${((Date.now() - started) / 1000).toFixed(1)} s; the host started a process in ${forkMs} ms`;
    });

    await attack("build: a RUN step that never ends", async (checks) => {
      const result = await build("never-ends");
      checks.that(result.state === "timed-out", `the build ended ${result.state}: ${result.reason ?? ""}`);
      const left = await waitFor("the step's container to go", async () => ((await stepContainersLeft()) === 0 ? true : undefined), 30_000).catch(() => false);
      checks.that(left === true, "its step container is still there");
      return `${result.state} after builds.timeout (${BUILD_TIMEOUT_S} s): '${result.reason ?? "?"}', its step container removed`;
    });
  } finally {
    await neighbour?.stop();
    hostService.close();
    await stack.close();
    await rm(repo.dir, { recursive: true, force: true });
  }
  return rows;
}
