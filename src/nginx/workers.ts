// Reads nginx's worker processes from /proc: have the workers that predate a reload stopped taking connections?
import { readdir, readFile } from "node:fs/promises";

/**
 * Why this is needed: on a reload nginx starts the new workers, sleeps 100 ms, then tells the old ones to
 * stop accepting. An old worker that the CPU has not run since it was told still has its share of the
 * listening socket, and the next connection it wakes for is served by the old routes (a host of a demo
 * that is ready falls through to the controller's page), even after the new workers answered every probe.
 * nginx retitles a worker "worker process is shutting down" at the moment it closes its listening sockets.
 */
interface ProcStat {
  parent: number;
  /** Clock ticks after boot. */
  started: number;
}

/** Workers forked by one reload start within a tick of each other; two reloads are at least 100 ms (10 ticks) apart. */
const SAME_BATCH_TICKS = 5;

async function readStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const parent = Number(fields[1]);
  const started = Number(fields[19]);
  return Number.isInteger(parent) && Number.isFinite(started) ? { parent, started } : undefined;
}

async function readTitle(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  return text?.replace(/\0+/g, " ").trim();
}

async function childrenOf(pid: number): Promise<number[]> {
  const listed = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => undefined);
  if (listed !== undefined) return listed.trim().split(/\s+/).filter(Boolean).map(Number);
  // Kernels without CONFIG_PROC_CHILDREN: every process's parent, read from its stat.
  const found: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (/^\d+$/.test(entry) && (await readStat(Number(entry)))?.parent === pid) found.push(Number(entry));
  }
  return found;
}

/**
 * Whether every worker of the same nginx master that was started before `workerPid` (the worker that answered
 * the new routes) has stopped accepting. Undefined when it cannot be told from here: nginx runs in another pid
 * namespace (its $pid is not an nginx worker here) or /proc is not readable; the caller then trusts its probes.
 */
export async function olderNginxWorkersRetired(workerPid: number): Promise<boolean | undefined> {
  const [own, title] = await Promise.all([readStat(workerPid), readTitle(workerPid)]);
  if (!own || !title?.startsWith("nginx: worker process")) return undefined;
  for (const sibling of await childrenOf(own.parent)) {
    if (sibling === workerPid) continue;
    const [stat, siblingTitle] = await Promise.all([readStat(sibling), readTitle(sibling)]);
    // Gone meanwhile, the cache manager or loader, or already retired: none of them takes a request.
    if (!stat || !siblingTitle || siblingTitle !== "nginx: worker process") continue;
    if (stat.started < own.started - SAME_BATCH_TICKS) return false;
  }
  return true;
}
