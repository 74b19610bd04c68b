// Benchmark section: screenshots in a pull request's comment. Opened → served with screenshots on against off (the
// shots run after readiness, so the ratio should be 1), and ready → the comment edited with the shots' table.
import { appendFile, rm } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { deliver, EXAMPLE_REPO, pullRequestPayload } from "../test/support/github.js";
import { startFakeGithubApi } from "../test/support/github-api.js";
import { serveWithGitDaemon } from "../test/support/git-repo.js";
import { startStack, waitFor } from "../test/support/stack.js";
import { median, round, until200 } from "./measure.js";
import { GREETING, nodeAppFixture, POLL_MS } from "./node-app.js";

const SECRET = "bench-secret-0123456789";
/** The same repository under a second name whose previews take no screenshots: the "off" side. */
const PLAIN_REPO = "acme/plain";

export interface ScreenshotResults {
  rounds: number;
  readyWithMs: number;
  readyWithoutMs: number;
  readyRatio: number;
  readyToCommentMs: number;
}

export async function screenshotsBench(rounds: number, log: (line: string) => void): Promise<ScreenshotResults> {
  const { root, work, git } = await nodeAppFixture("screenshots");
  const api = await startFakeGithubApi();
  const daemon = await serveWithGitDaemon({ dir: work, git: async (args) => (await git(args)).stdout.trim(), commitPage: async () => "", commitBroken: async () => "" }, root);
  const settings = `repo: ${JSON.stringify(daemon.url)}, port: 3000, memory: 256m, readiness: { path: /healthz, timeout: 60s }`;
  const stack = await startStack({
    nginxYaml: "  drain: 1s",
    extraYaml: `github:\n  webhookSecrets: [${SECRET}]\n  apiUrl: ${api.url}\n  token: bench-token\n  repos:\n    ${EXAMPLE_REPO}: { name: shots, ${settings}, screenshots: [/, /healthz] }\n    ${PLAIN_REPO}: { name: plain, ${settings} }`,
  });
  // A source change only (the dependency layer stays cached): a review's usual push, built in seconds.
  const pushPr = async (pr: number) => {
    await git(["checkout", "-q", "-B", `pr-${pr}`, "main"]);
    await appendFile(path.join(work, "server.js"), `\n// pr ${pr}\n`);
    await git(["commit", "-q", "-am", `pr ${pr}`]);
    const commit = (await git(["rev-parse", "HEAD"])).stdout.trim();
    await execa("git", ["push", "-q", "-f", daemon.bare, `${commit}:refs/pull/${pr}/head`], { cwd: work });
    await git(["checkout", "-q", "main"]);
    return commit;
  };
  const withShots: number[] = [];
  const without: number[] = [];
  const toComment: number[] = [];
  let clock = Date.now();
  try {
    // Alternated, so a noisy minute weighs on both sides alike; each round's shots finish before the next opens.
    for (let index = 0; index < rounds; index += 1) {
      for (const shots of [false, true]) {
        const pr = (shots ? 200 : 300) + index;
        const commit = await pushPr(pr);
        const payload = pullRequestPayload("opened", pr, commit, new Date((clock += 1000)), shots ? {} : { repo: PLAIN_REPO });
        const started = performance.now();
        await deliver(stack.nginxPort, "pull_request", payload, SECRET);
        const ready = await until200(stack.nginxPort, `${shots ? "shots" : "plain"}-pr-${pr}.demo.localhost`, "/", GREETING, started, 180_000, POLL_MS);
        (shots ? withShots : without).push(ready);
        if (!shots) continue;
        const readyAt = Date.now();
        const edited = await waitFor("the comment with the screenshots", async () => api.calls.find((call) => call.at >= readyAt && /\/issues\/(\d+\/)?comments/.test(call.path) && String(call.body.body ?? "").includes(`**Screenshots** of ${commit.slice(0, 12)}`)), 120_000, 20);
        toComment.push(edited.at - readyAt);
      }
    }
    const results: ScreenshotResults = {
      rounds,
      readyWithMs: round(median(withShots)),
      readyWithoutMs: round(median(without)),
      readyRatio: round(median(withShots) / median(without), 2),
      readyToCommentMs: round(median(toComment)),
    };
    log(`screenshots: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await stack.close();
    await daemon.stop();
    await api.close();
    const images = await stack.docker.listImages({ filters: { reference: ["demo-launcher-preview/shots", "demo-launcher-preview/plain"] } });
    for (const image of images) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
}

export function screenshotRows(r: ScreenshotResults): string[][] {
  return [
    [`Pull request opened → preview served, screenshots on (2 pages × 2 viewports; ${r.rounds} rounds)`, `${r.readyWithMs} ms`, `screenshots off ${r.readyWithoutMs} ms`, `${r.readyRatio}× (target ≤ 1.05×)`],
    [`Preview ready → its comment edited with the screenshots' table`, `${r.readyToCommentMs} ms`, "—", "—"],
  ];
}
