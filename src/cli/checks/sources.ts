// doctor's look at what previews and shared demos need: git, each preview source's repository, each shared demo's image.
import { execa } from "execa";
import type Docker from "dockerode";
import type { Config } from "../../config/load.js";
import { describeError } from "../../core/errors.js";
import { remoteBranches } from "../../builds/git.js";
import { redactSecrets } from "../../builds/redact.js";
import type { Check } from "./host.js";
import { chromiumAvailable, CHROMIUM_PATH } from "../../screenshots/chromium.js";

/** git on the PATH, then one line per preview source: its repository answers and has branches. */
export async function previewSourceChecks(config: Config): Promise<Check[]> {
  const sources = Object.entries(config.previews);
  if (sources.length === 0) return [];
  const version = await execa("git", ["--version"], { reject: false });
  if (version.exitCode !== 0) return [{ name: "git", ok: false, detail: "git is not on the PATH: previews fetch their repositories with it (apt-get install git)" }];
  const checks: Check[] = [{ name: "git", ok: true, detail: version.stdout.trim() }];
  for (const [name, source] of sources) {
    const repo = redactSecrets(source.repo, []);
    try {
      const branches = await remoteBranches(source.repo);
      checks.push({ name: `source ${name}`, ok: branches.length > 0 ? true : "warn", detail: branches.length > 0 ? `${repo} answers: ${branches.length} branch(es)` : `${repo} answers but has no branch to preview` });
    } catch (error) {
      checks.push({ name: `source ${name}`, ok: false, detail: `${repo} cannot be fetched: ${redactSecrets(describeError(error), [])}` });
    }
  }
  checks.push(...(await screenshotCheck(config)));
  return checks;
}

/** Where a source takes screenshots: Chromium must be on the host, or the comment says "no screenshot". */
async function screenshotCheck(config: Config): Promise<Check[]> {
  const taking = Object.entries(config.previews).filter(([, source]) => source.screenshots?.length).map(([name]) => name);
  if (taking.length === 0) return [];
  if (await chromiumAvailable()) return [{ name: "screenshots", ok: true, detail: `${CHROMIUM_PATH} takes them for ${taking.join(", ")}` }];
  return [{ name: "screenshots", ok: false, detail: `${taking.join(", ")} take screenshots, but Chromium is not at ${CHROMIUM_PATH} (apt-get install chromium); their comments say "no screenshot"` }];
}

/** One line per shared demo: its app's image is here, its replicas and its reset schedule. */
export async function sharedDemoChecks(config: Config, docker: Docker): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [name, shared] of Object.entries(config.shared)) {
    const image = config.apps[shared.app]!.image;
    const present = await docker.getImage(image).inspect().then(() => true, () => false);
    const plan = `${shared.replicas} replica(s) of ${shared.app}${shared.reset ? `, reset at "${shared.reset}" (${shared.timeZone})` : ", no scheduled reset"}`;
    checks.push({ name: `shared ${name}`, ok: present, detail: present ? `${plan}; ${image} is present` : `${plan}; ${image} is missing, so it cannot start` });
  }
  return checks;
}
