// `npm run chaos`: the fault suite on a real Docker engine and a real nginx. Prints a table of faults
// injected and survived, writes it to test-output/chaos.json (a full run's scenarios also to test/chaos/record.json),
// and exits non-zero on any loss.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { requireDocker } from "../support/stack.js";
import { badApps } from "./bad-apps.js";
import { badInput } from "./bad-input.js";
import { buildDockerRestart, buildKills } from "./build-faults.js";
import { dockerRestart } from "./docker-restart.js";
import { killLoop } from "./kill-loop.js";
import { replaceKill } from "./replace-kill.js";
import { rewindKills } from "./rewind-kill.js";
import { formatTable, readRecord, writeRecord, type ChaosRecord, type Row } from "./report.js";
import { stateWrites } from "./state-writes.js";
import { hostileTenant } from "./tenant.js";
import { userNamespaces } from "./userns.js";
import { watcherFaults } from "./watcher-faults.js";

const SCENARIOS: Record<string, (log: (line: string) => void, quick: boolean) => Promise<Row[]>> = {
  kill: (log, quick) => killLoop(quick ? 8 : 30, log),
  replace: (log, quick) => replaceKill(quick ? 6 : 20, log),
  docker: (log, quick) => dockerRestart(quick ? 1 : 2, log),
  watcher: (log) => watcherFaults(log),
  apps: (log) => badApps(log),
  state: (log, quick) => stateWrites(quick ? 40 : 200, log),
  input: (log) => badInput(log),
  builds: (log, quick) => buildKills(quick ? 2 : 5, log),
  "builds-docker": (log) => buildDockerRestart(log),
  rewinds: (log, quick) => rewindKills(quick ? 3 : 8, log),
  tenant: (log) => hostileTenant(log),
  userns: (log) => userNamespaces(log),
};

function parseArgs(argv: string[]): { only: string[]; quick: boolean } {
  let only = Object.keys(SCENARIOS);
  let quick = false;
  for (const arg of argv) {
    if (arg === "--quick") quick = true;
    else if (arg.startsWith("--only=")) {
      only = arg.slice(7).split(",").filter(Boolean);
      const unknown = only.filter((name) => !SCENARIOS[name]);
      if (unknown.length) throw new UsageError(`--only: unknown scenario(s) ${unknown.join(", ")}; allowed: ${Object.keys(SCENARIOS).join(", ")}`);
    } else throw new UsageError(`unknown option ${arg}; allowed: --quick, --only=${Object.keys(SCENARIOS).join(",")}`);
  }
  return { only, quick };
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const { only, quick } = parseArgs(process.argv.slice(2));
  await requireDocker();
  const rows: Row[] = [];
  const started = Date.now();
  const ran: ChaosRecord["scenarios"] = {};
  for (const name of only) {
    const log = (line: string) => console.log(line);
    console.log(`chaos: ${name}`);
    const scenarioStarted = Date.now();
    const mine: Row[] = [];
    try {
      mine.push(...(await SCENARIOS[name]!(log, quick)));
    } catch (error) {
      // A scenario that cannot finish is a failure of the suite, shown in the table like any other.
      mine.push({ fault: `${name} (scenario aborted)`, injected: 0, survived: 0, lost: 1, detail: `FAILED: ${(error as Error).stack ?? String(error)}` });
    }
    rows.push(...mine);
    ran[name] = { at: new Date(scenarioStarted).toISOString(), seconds: Math.round((Date.now() - scenarioStarted) / 1000), rows: mine };
    console.log(`chaos: ${name} done in ${((Date.now() - scenarioStarted) / 1000).toFixed(1)} s`);
  }
  const table = formatTable(rows);
  console.log(`\n${table}\n`);
  const lost = rows.reduce((sum, row) => sum + row.lost, 0);
  const failed = rows.filter((row) => row.lost > 0 || row.survived < row.injected);
  const output = path.join(PACKAGE_ROOT, "test-output");
  await mkdir(output, { recursive: true });
  await writeFile(path.join(output, "chaos.json"), `${JSON.stringify({ at: new Date().toISOString(), quick, seconds: Math.round((Date.now() - started) / 1000), rows }, null, 2)}\n`);
  await writeFile(path.join(output, "chaos.md"), `${table}\n`);
  // A full run's scenarios go on record, failures included (the page must not hide one); `npm run docs` makes the page.
  if (!quick) await writeRecord({ scenarios: { ...(await readRecord()).scenarios, ...ran } });
  if (failed.length > 0) {
    console.error(`chaos: ${failed.length} row(s) with losses or failed checks (${lost} lost); see the detail column`);
    return 1;
  }
  console.log(`chaos: every fault survived, nothing lost (${Math.round((Date.now() - started) / 1000)} s)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof UsageError ? `chaos: ${error.message}` : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
