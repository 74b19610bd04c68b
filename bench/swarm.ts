// Benchmark section: demos on a real 3-node swarm on this machine beside one host in the same run: a cold launch
// (the service-create overhead shown plainly), a burst of 50 spread over 3 nodes, and a node's death until its demos
// are served again.
import { SAMPLE_IMAGE } from "../src/docker/sample-image.js";
import { LocalSwarm, REGISTRY } from "../test/support/swarm.js";
import { requireDocker, startStack, waitFor, type Stack } from "../test/support/stack.js";
import { median, percentile, round, until200 } from "./measure.js";
import type { DemoView } from "../src/api/views.js";

export interface SwarmResults {
  launches: number;
  swarmP50Ms: number;
  swarmP95Ms: number;
  hostP50Ms: number;
  hostP95Ms: number;
  ratio: number;
  burst: number;
  burstLastRoutableMs: number;
  burstPerNode: number[];
  hostBurstLastRoutableMs: number;
  deadNodeDemos: number;
  deadNodeServedAgainMs: number;
}

const APP = `  cold:\n    image: ${SAMPLE_IMAGE}\n    port: 8080\n    memory: 32m\n    pids: 64\n    banner: false\n    readiness: { path: /health.txt, timeout: 60s }`;
const LIMITS = "limits: { maxDemos: 80, perClient: 1000, launchesPerClient: 10000 }";

async function launch(stack: Stack): Promise<{ id: string; host: string }> {
  const answer = await stack.api("POST", "/api/demos", { app: "cold" });
  if (answer.status !== 201) throw new Error(`launch answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body) as DemoView;
}

async function nodeOf(stack: Stack, id: string): Promise<string> {
  return (JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body) as DemoView).instances![0]!.endpoint!.split(":")[0]!;
}

export async function swarmBench(rounds: number, log: (line: string) => void): Promise<SwarmResults> {
  const hostDocker = await requireDocker();
  const swarm = await LocalSwarm.start(3);
  let onSwarm: Stack | undefined;
  let onHost: Stack | undefined;
  try {
    await swarm.loadFromHost(hostDocker, SAMPLE_IMAGE);
    onSwarm = await startStack({ docker: swarm.manager.docker, appsYaml: APP, limitsYaml: LIMITS, extraYaml: `runtime: swarm\nswarm: { registry: "${REGISTRY}", startTimeout: 60s }` });
    onHost = await startStack({ appsYaml: APP, limitsYaml: LIMITS });
    // One launch each first: the swarm's first pushes the image to the registry, each node's first pulls it.
    for (let n = 0; n < 3; n += 1) for (const stack of [onSwarm, onHost]) {
      const demo = await launch(stack);
      await until200(stack.nginxPort, demo.host, "/health.txt", "ok", performance.now());
      await stack.api("DELETE", `/api/demos/${demo.id}`);
    }
    const swarmTimes: number[] = [];
    const hostTimes: number[] = [];
    for (let index = 0; index < rounds; index += 1) {
      for (const [stack, into] of (index % 2 === 0 ? [[onSwarm, swarmTimes], [onHost, hostTimes]] : [[onHost, hostTimes], [onSwarm, swarmTimes]]) as Array<[Stack, number[]]>) {
        const started = performance.now();
        const demo = await launch(stack);
        into.push(await until200(stack.nginxPort, demo.host, "/health.txt", "ok", started));
        await stack.api("DELETE", `/api/demos/${demo.id}`);
      }
    }
    log(`swarm: cold launch p50 ${round(median(swarmTimes))} ms on the swarm, ${round(median(hostTimes))} ms on one host`);

    const burst = 50;
    const burstStarted = performance.now();
    const launched = await Promise.all(Array.from({ length: burst }, () => launch(onSwarm!)));
    const routable = await Promise.all(launched.map((demo) => until200(onSwarm!.nginxPort, demo.host, "/health.txt", "ok", burstStarted, 180_000, 50)));
    const nodes = await Promise.all(launched.map((demo) => nodeOf(onSwarm!, demo.id)));
    const perNode = swarm.nodes.map((node) => nodes.filter((address) => address === node.address).length);
    // The same burst on one host, in the same run.
    const hostStarted = performance.now();
    const onHostBurst = await Promise.all(Array.from({ length: burst }, () => launch(onHost!)));
    const hostRoutable = await Promise.all(onHostBurst.map((demo) => until200(onHost!.nginxPort, demo.host, "/health.txt", "ok", hostStarted, 180_000, 50)));
    const hostBurstMs = Math.max(...hostRoutable);
    for (const demo of onHostBurst) await onHost.api("DELETE", `/api/demos/${demo.id}`);
    log(`swarm: a burst of ${burst}: last routable after ${round(Math.max(...routable))} ms, per node ${perNode.join(" / ")}; on one host ${round(hostBurstMs)} ms`);

    const victim = swarm.nodes[2]!;
    const doomed = launched.filter((_demo, index) => nodes[index] === victim.address);
    const killedAt = performance.now();
    await swarm.killNode(victim);
    let lastBack = 0;
    await Promise.all(doomed.map(async (demo) => {
      await waitFor(`${demo.id} to be served from another node`, async () => (await nodeOf(onSwarm!, demo.id)) !== victim.address && (await onSwarm!.viaNginx(demo.host, "/health.txt")).status === 200, 180_000, 100);
      lastBack = Math.max(lastBack, performance.now() - killedAt);
    }));
    log(`swarm: ${doomed.length} demos of a killed node served again after ${round(lastBack)} ms`);
    return {
      launches: rounds,
      swarmP50Ms: round(median(swarmTimes)),
      swarmP95Ms: round(percentile(swarmTimes, 95)),
      hostP50Ms: round(median(hostTimes)),
      hostP95Ms: round(percentile(hostTimes, 95)),
      ratio: round(median(swarmTimes) / median(hostTimes), 2),
      burst,
      burstLastRoutableMs: round(Math.max(...routable)),
      burstPerNode: perNode,
      hostBurstLastRoutableMs: round(hostBurstMs),
      deadNodeDemos: doomed.length,
      deadNodeServedAgainMs: round(lastBack),
    };
  } finally {
    await onSwarm?.close();
    await onHost?.close();
    await swarm.stop();
  }
}

export function swarmRows(r: SwarmResults): string[][] {
  return [
    [`Cold launch on a 3-node swarm (${r.launches} interleaved launches each; POST → first 200 via nginx)`, `p50 / p95 ${r.swarmP50Ms} / ${r.swarmP95Ms} ms`, `one host ${r.hostP50Ms} / ${r.hostP95Ms} ms`, `${r.ratio}× one host (the service create, Swarm's scheduling and the task's start)`],
    [`Burst of ${r.burst} launches on the swarm (spread per node: ${r.burstPerNode.join(" / ")})`, `last routable after ${r.burstLastRoutableMs} ms`, `one host ${r.hostBurstLastRoutableMs} ms`, `${round(r.burstLastRoutableMs / r.hostBurstLastRoutableMs, 2)}× one host (3 daemons on the same 2 cores)`],
    ["A node killed (every process of it) → its demos served again from the others", `${r.deadNodeServedAgainMs} ms for ${r.deadNodeDemos} demos`, "Swarm heartbeat 1 s; the controller's Docker sync every 5 s", "—"],
  ];
}
