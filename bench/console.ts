// Benchmark section: what the console's live updates cost the controller with 200 live demos. The controller runs
// as its own process (CPU and RSS read from /proc); demos are extended 5 times a second so the state keeps changing;
// windows without viewers, with 5 open consoles (server-sent events), and without again.
import http from "node:http";
import { readFile } from "node:fs/promises";
import { request, startStack, waitFor, type Stack } from "../test/support/stack.js";
import { median, round, rssMb } from "./measure.js";
import type { DemoList } from "../src/api/views.js";

export interface ConsoleResults {
  demos: number;
  viewers: number;
  windowSeconds: number;
  cpuPercentWithout: number;
  cpuPercentWith: number;
  rssMbWithout: number;
  rssMbWith: number;
  updatesPerViewer: number;
  updateBytes: number;
}

/** User and system CPU seconds of a process so far (/proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Opens a console's event stream; counts the updates and the size of the last one. */
function viewer(port: number): { updates: () => number; lastBytes: () => number; close(): void } {
  let updates = 0;
  let lastBytes = 0;
  let buffer = "";
  const req = http.request({ host: "127.0.0.1", port, path: "/__admin/events" }, (res) => {
    res.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (message.includes("event: state")) {
          updates += 1;
          lastBytes = message.length;
        }
      }
    });
  });
  req.on("error", () => {});
  req.end();
  return { updates: () => updates, lastBytes: () => lastBytes, close: () => req.destroy() };
}

export async function consoleBench(demoCount: number, windowSeconds: number, image: string, log: (line: string) => void): Promise<ConsoleResults> {
  const app = `  small:\n    image: ${image}\n    port: 8080\n    memory: 32m\n    pids: 64\n    ttl: 2h\n    banner: false\n    readiness: { path: /health.txt, timeout: 60s }`;
  const stack: Stack = await startStack({ controller: "child", appsYaml: app, limitsYaml: `limits: { maxDemos: ${demoCount + 10}, perClient: 1000, launchesPerClient: 10000 }` });
  try {
    const pid = stack.child!.pid!;
    const launched = (answers: Array<{ status: number }>) => answers.filter((answer) => answer.status !== 201).length;
    let refused = 0;
    for (let i = 0; i < demoCount; i += 20) refused += launched(await Promise.all(Array.from({ length: Math.min(20, demoCount - i) }, () => stack.api("POST", "/api/demos", { app: "small" }))));
    if (refused > 0) log(`console: ${refused} of ${demoCount} launches were not accepted`);
    await waitFor(`${demoCount} demos to settle`, async () => {
      const { demos } = JSON.parse((await stack.api("GET", "/api/demos")).body) as DemoList;
      return demos.every((demo) => demo.status !== "starting");
    }, 600_000, 1000);
    const ids = (JSON.parse((await stack.api("GET", "/api/demos")).body) as DemoList).demos.map((demo) => demo.id);
    log(`console: ${ids.length} demos ready`);
    // The churn: one extension every 200 ms, each an engine event (and a changed expiry in the state).
    let churning = true;
    const churn = (async () => {
      for (let n = 0; churning; n += 1) {
        await stack.api("POST", `/api/demos/${ids[n % ids.length]}/extend`, { by: "1s" });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const window = async () => {
      const cpuBefore = await cpuSeconds(pid);
      const started = performance.now();
      const rss: number[] = [];
      while (performance.now() - started < windowSeconds * 1000) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        rss.push(await rssMb(pid));
      }
      return { cpuPercent: ((await cpuSeconds(pid)) - cpuBefore) / ((performance.now() - started) / 1000) * 100, rssMb: median(rss) };
    };
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = await window();
    const viewers = Array.from({ length: 5 }, () => viewer(stack.config.listen.port));
    await waitFor("every viewer's first update", async () => viewers.every((one) => one.updates() > 0), 20_000);
    const counted = viewers.map((one) => one.updates());
    const during = await window();
    const updates = viewers.map((one, index) => one.updates() - counted[index]!);
    const updateBytes = viewers[0]!.lastBytes();
    for (const one of viewers) one.close();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await window();
    churning = false;
    await churn;
    const result: ConsoleResults = {
      demos: ids.length,
      viewers: viewers.length,
      windowSeconds,
      cpuPercentWithout: round((before.cpuPercent + after.cpuPercent) / 2),
      cpuPercentWith: round(during.cpuPercent),
      rssMbWithout: round((before.rssMb + after.rssMb) / 2),
      rssMbWith: round(during.rssMb),
      updatesPerViewer: round(median(updates), 0),
      updateBytes,
    };
    log(`console: ${JSON.stringify({ ...result, before, during, after })}`);
    for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => request(stack.config.listen.port, { method: "DELETE", path: `/api/demos/${id}`, timeoutMs: 120_000 })));
    return result;
  } finally {
    await stack.close();
  }
}

export function consoleRows(r: ConsoleResults): string[][] {
  return [
    [`Console live updates: ${r.viewers} open consoles, ${r.demos} live demos, 5 changes/s (${r.windowSeconds} s windows)`, `controller CPU ${r.cpuPercentWith} %, RSS ${r.rssMbWith} MB; ${r.updatesPerViewer} updates per console, ${Math.round(r.updateBytes / 1024)} kB each`, `no console open: CPU ${r.cpuPercentWithout} %, RSS ${r.rssMbWithout} MB`, `+${round(r.cpuPercentWith - r.cpuPercentWithout)} CPU points, +${round(r.rssMbWith - r.rssMbWithout)} MB`],
  ];
}
