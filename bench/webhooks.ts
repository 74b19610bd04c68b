// Benchmark section: the forges' webhooks. How fast a delivery is answered (GitHub's signature or GitLab's token,
// disk write, 202) while 50 builds wait in the queue, and a pull request opened → its preview served, beside the
// cold-build floor of the same app.
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { deliver, EXAMPLE_REPO, pullRequestPayload } from "../test/support/github.js";
import { startFakeGithubApi } from "../test/support/github-api.js";
import { deliverGitlab, EXAMPLE_PROJECT, mergeRequestPayload } from "../test/support/gitlab.js";
import { startFakeGitlabApi } from "../test/support/gitlab-api.js";
import { serveWithGitDaemon } from "../test/support/git-repo.js";
import { startStack, waitFor } from "../test/support/stack.js";
import { median, percentile, round, until200 } from "./measure.js";
import { GREETING, nodeAppFixture, POLL_MS } from "./node-app.js";

const SECRET = "bench-secret-0123456789";

export interface WebhookResults {
  queuedBuilds: number;
  deliveries: number;
  answerP50Ms: number;
  answerP99Ms: number;
  gitlabAnswerP50Ms: number;
  gitlabAnswerP99Ms: number;
  rounds: number;
  openedToServedMs: number;
  floorBuildAndRunMs: number;
  openedRatio: number;
}

export async function webhooksBench(rounds: number, log: (line: string) => void): Promise<WebhookResults> {
  const { root, work, git, bust, run, floorRun, floorTags, floor } = await nodeAppFixture("webhooks");
  const api = await startFakeGithubApi();
  const gitlab = await startFakeGitlabApi();
  const daemon = await serveWithGitDaemon({ dir: work, git: async (args) => (await git(args)).stdout.trim(), commitPage: async () => "", commitBroken: async () => "" }, root);
  const stack = await startStack({
    nginxYaml: "  drain: 1s",
    extraYaml: `github:\n  webhookSecrets: [${SECRET}]\n  apiUrl: ${api.url}\n  token: bench-token\n  repos:\n    ${EXAMPLE_REPO}: { name: app, repo: ${JSON.stringify(daemon.url)}, port: 3000, memory: 256m, readiness: { path: /healthz, timeout: 60s } }\ngitlab:\n  webhookSecrets: [${SECRET}]\n  apiUrl: ${gitlab.url}\n  token: bench-token\n  projects:\n    ${EXAMPLE_PROJECT}: { name: mr, repo: ${JSON.stringify(daemon.url)}, port: 3000, memory: 256m }\nbuilds: { concurrency: 2, queueLength: 200, timeout: 10m }`,
  });
  const pushPr = async (pr: number, change: () => Promise<void>) => {
    await git(["checkout", "-q", "-B", `pr-${pr}`, "main"]);
    await change();
    await git(["commit", "-q", "-am", `pr ${pr}`]);
    const commit = (await git(["rev-parse", "HEAD"])).stdout.trim();
    await execa("git", ["push", "-q", "-f", daemon.bare, `${commit}:refs/pull/${pr}/head`], { cwd: work });
    await git(["checkout", "-q", "main"]);
    return commit;
  };
  let clock = Date.now();
  const answers: number[] = [];
  const gitlabAnswers: number[] = [];
  const opened: number[] = [];
  try {
    // 50 pull requests whose builds take minutes: 2 run, 48 wait, for as long as the measurement lasts.
    for (let pr = 1; pr <= 50; pr += 1) {
      const commit = await pushPr(pr, () => writeFile(path.join(work, "Dockerfile"), `FROM demo-launcher-base/node:bookworm\nRUN sleep 600 # ${run} ${pr}\n`));
      await deliver(stack.nginxPort, "pull_request", pullRequestPayload("opened", pr, commit, new Date((clock += 1000))), SECRET);
    }
    await git(["checkout", "-q", "--", "."]);
    const queued = await waitFor("50 builds queued or running", async () => {
      const { builds } = JSON.parse((await stack.api("GET", "/api/builds")).body) as { builds: Array<{ state: string }> };
      const active = builds.filter((build) => ["queued", "fetching", "building"].includes(build.state)).length;
      return active >= 50 ? active : undefined;
    }, 60_000, 100);
    // Deliveries as GitHub sends them (each signed, written to disk, answered), one after another.
    for (let index = 0; index < 200; index += 1) {
      const pr = 1 + (index % 50);
      const started = performance.now();
      const answer = await deliver(stack.nginxPort, "pull_request", pullRequestPayload("synchronize", pr, "f".repeat(40), new Date((clock += 1000))), SECRET);
      answers.push(performance.now() - started);
      if (answer.status !== 202) throw new Error(`a delivery answered ${answer.status}: ${answer.body}`);
    }
    // GitLab's the same way (its secret token, one Idempotency-Key each), on 50 merge requests of its own.
    for (let index = 0; index < 200; index += 1) {
      const started = performance.now();
      const answer = await deliverGitlab(stack.nginxPort, "Merge Request Hook", mergeRequestPayload("update", 1 + (index % 50), "e".repeat(40), new Date((clock += 1000)), { oldrev: "f".repeat(40) }), SECRET);
      gitlabAnswers.push(performance.now() - started);
      if (answer.status !== 202) throw new Error(`a GitLab delivery answered ${answer.status}: ${answer.body}`);
    }
    for (const build of (JSON.parse((await stack.api("GET", "/api/builds")).body) as { builds: Array<{ id: string; state: string }> }).builds) {
      if (["queued", "fetching", "building"].includes(build.state)) await stack.api("DELETE", `/api/builds/${build.id}`);
    }
    // Opened → served, against docker build + run by hand of the same files (each with a cold dependency layer).
    for (let index = 0; index < rounds; index += 1) {
      await floorRun(index);
      const pr = 100 + index;
      const commit = await pushPr(pr, () => bust(work, `webhooks ours ${run} ${index}`));
      const started = performance.now();
      await deliver(stack.nginxPort, "pull_request", pullRequestPayload("opened", pr, commit, new Date((clock += 1000))), SECRET);
      opened.push(await until200(stack.nginxPort, `app-pr-${pr}.demo.localhost`, "/", GREETING, started, 180_000, POLL_MS));
    }
    const results: WebhookResults = {
      queuedBuilds: queued,
      deliveries: answers.length,
      answerP50Ms: round(median(answers)),
      answerP99Ms: round(percentile(answers, 99)),
      gitlabAnswerP50Ms: round(median(gitlabAnswers)),
      gitlabAnswerP99Ms: round(percentile(gitlabAnswers, 99)),
      rounds,
      openedToServedMs: round(median(opened)),
      floorBuildAndRunMs: round(median(floor)),
      openedRatio: round(median(opened) / median(floor), 2),
    };
    log(`webhooks: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await stack.close();
    await daemon.stop();
    await api.close();
    await gitlab.close();
    for (const tag of floorTags) await execa("docker", ["rmi", "-f", tag], { reject: false });
    const images = await stack.docker.listImages({ filters: { reference: ["demo-launcher-preview/app", "demo-launcher-preview/mr"] } });
    for (const image of images) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
}

export function webhookRows(r: WebhookResults): string[][] {
  return [
    [`Webhook answer with ${r.queuedBuilds} builds queued (${r.deliveries} signed deliveries, written to disk first)`, `p50 / p99 ${r.answerP50Ms} / ${r.answerP99Ms} ms`, "—", "target p99 ≤ 100 ms"],
    ...(r.gitlabAnswerP99Ms !== undefined ? [[`GitLab webhook answer, the same queue (${r.deliveries} deliveries with the secret token)`, `p50 / p99 ${r.gitlabAnswerP50Ms} / ${r.gitlabAnswerP99Ms} ms`, "—", "target p99 ≤ 100 ms"]] : []),
    [`Pull request opened → preview served (examples/node-app, ${r.rounds} rounds)`, `${r.openedToServedMs} ms`, `docker build + run by hand ${r.floorBuildAndRunMs} ms`, `${r.openedRatio}× floor`],
  ];
}
