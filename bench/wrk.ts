// wrk against demos through nginx, spread over their hosts, counting 5xx answers and failed connections.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { Stack } from "../test/support/stack.js";

const script = (checkPath: string, delayMs: number) => `
local hosts = {}
${delayMs > 0 ? `function delay() return ${delayMs} end` : ""}
for host in string.gmatch(os.getenv("BENCH_HOSTS"), "[^,]+") do table.insert(hosts, host) end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counter = 0; count5xx = 0; last5xx = 0 end
function request()
  counter = counter + 1
  return wrk.format("GET", "${checkPath}", { Host = hosts[(counter % #hosts) + 1] })
end
function response(status, headers, body)
  if status >= 500 then
    count5xx = count5xx + 1; last5xx = status
    if count5xx == 1 then io.write("BENCH5XXBODY " .. string.gsub(string.sub(body or "", 1, 300), "\\n", " ") .. "\\n") end
  end
end
function done(summary, latency, requests)
  local total = 0
  local statuses = ""
  for _, thread in ipairs(threads) do total = total + thread:get("count5xx"); statuses = statuses .. " " .. tostring(thread:get("last5xx")) end
  io.write("BENCH5XXSTATUS" .. statuses .. "\\n")
  io.write(string.format("BENCH requests=%d errors5xx=%d connect=%d read=%d write=%d timeout=%d status=%d p99us=%d\\n",
    summary.requests, total, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status, latency:percentile(99)))
end
`;

export interface WrkResult {
  requests: number;
  errors5xx: number;
  connectErrors: number;
  readErrors: number;
  timeouts: number;
  p99Ms: number;
}

/**
 * Starts wrk (2 threads, 16 connections) for `seconds`; result() waits for it and reads its summary. With
 * `delayMs`, each connection pauses that long between requests (a steady rate, not as fast as the CPU allows).
 */
export async function startWrk(stack: Stack, hosts: string[], checkPath: string, seconds: number, delayMs = 0): Promise<{ result(log: (line: string) => void): Promise<WrkResult> }> {
  const scriptFile = path.join(stack.dir, "load.lua");
  await writeFile(scriptFile, script(checkPath, delayMs));
  const wrk = execa("wrk", ["-t2", "-c16", `-d${seconds}s`, "-s", scriptFile, `http://127.0.0.1:${stack.nginxPort}/`], { env: { BENCH_HOSTS: hosts.join(",") }, reject: false, all: true });
  return {
    async result(log) {
      const output = String((await wrk).all ?? "");
      const statuses = /BENCH5XXSTATUS(.*)/.exec(output)?.[1]?.trim();
      if (statuses && statuses.split(" ").some((status) => status !== "0")) log(`last 5xx status per wrk thread: ${statuses}; a body: ${/BENCH5XXBODY (.*)/.exec(output)?.[1] ?? ""}`);
      const line = /BENCH requests=(\d+) errors5xx=(\d+) connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+) status=(\d+) p99us=(\d+)/.exec(output);
      if (!line) throw new Error(`wrk gave no result: ${output}`);
      return { requests: Number(line[1]), errors5xx: Number(line[2]), connectErrors: Number(line[3]), readErrors: Number(line[4]), timeouts: Number(line[6]), p99Ms: Number(line[8]) / 1000 };
    },
  };
}
