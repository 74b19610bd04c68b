// Benchmark section: what ships. The Debian package's size, the controller image's size beside the last release's
// image (its Dockerfile, built here on the same local base, in the same run), and the resident memory of an idle
// `serve` from the bundle the package and image carry beside one from dist/ (both against the real Docker, same run).
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { PACKAGE_ROOT } from "../src/nginx/render.js";
import { freePort, request, waitFor } from "../test/support/stack.js";
import { median, round } from "./measure.js";

export interface PackageResults {
  debMb: number;
  debInstalledMb: number;
  imageMb: number;
  previousImageMb: number;
  previousRelease: string;
  bundleServeRssMb: number;
  distServeRssMb: number;
}

const sh = async (command: string) => (await execa("bash", ["-c", command], { cwd: PACKAGE_ROOT })).stdout.trim();
const imageMb = async (tag: string) => round(Number(await sh(`docker image inspect --format '{{.Size}}' ${tag}`)) / 1e6);

/** VmRSS of a `serve` 5 s after it first answers /healthz (no demos), median of three starts. */
async function serveRssMb(entry: string, log: (line: string) => void): Promise<number> {
  const samples: number[] = [];
  for (let round_ = 0; round_ < 3; round_ += 1) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-bench-rss-"));
    const port = await freePort();
    await writeFile(path.join(dir, "config.yaml"), `domain: demo.localhost\nnamespace: rss${process.pid}\nlisten: 127.0.0.1:${port}\nstateDir: ${dir}/state\nnginx: { configDir: ${dir}/nginx }\nports: { from: 41000, to: 41999 }\napps:\n  hello: { image: demo-launcher/hello:latest, port: 8080 }\n`);
    const child = execa(process.execPath, [entry, "--config", path.join(dir, "config.yaml"), "serve"], { reject: false, all: true });
    try {
      await waitFor("serve to answer", async () => (await request(port, { path: "/healthz" }).catch(() => undefined))?.status === 200, 30_000, 100);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const status = await sh(`grep VmRSS /proc/${child.pid}/status`);
      samples.push(Number(/(\d+)/.exec(status)![1]) / 1024);
    } finally {
      child.kill("SIGTERM");
      await child;
      await rm(dir, { recursive: true, force: true });
    }
  }
  log(`package: ${entry} at rest ${samples.map((mb) => round(mb)).join(", ")} MB`);
  return round(median(samples));
}

export async function packageBench(log: (line: string) => void): Promise<PackageResults> {
  const deb = (await sh("bash scripts/package-deb.sh")).split("\n").at(-1)!;
  const debMb = round((await stat(deb)).size / 1e6);
  const debInstalledMb = round(Number(await sh(`dpkg-deb --field ${deb} Installed-Size`)) / 1024);
  const image = (await sh("bash scripts/ensure-controller-image.sh")).split("\n").at(-1)!;
  // The last release's image: its own Dockerfile and tree (git archive), on the same local Node.js base.
  const previousRelease = await sh("bash scripts/last-release.sh");
  const [, commit] = previousRelease.split(" ");
  const previousTag = `demo-launcher/controller:${commit!.slice(0, 12)}`;
  if (!(await sh(`docker image inspect ${previousTag} >/dev/null 2>&1 && echo yes || true`))) {
    log(`package: building the ${previousRelease} image for comparison`);
    await sh(`git archive ${commit} | docker build -q --build-arg BASE=demo-launcher-base/node26:bookworm -t ${previousTag} - >/dev/null`);
  }
  const bundleDir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-bench-bundle-"));
  try {
    await sh(`npx tsx tools/bundle.ts ${bundleDir}`);
    const results: PackageResults = {
      debMb,
      debInstalledMb,
      imageMb: await imageMb(image),
      previousImageMb: await imageMb(previousTag),
      previousRelease,
      bundleServeRssMb: await serveRssMb(path.join(bundleDir, "dist/cli/main.js"), log),
      distServeRssMb: await serveRssMb(path.join(PACKAGE_ROOT, "dist/cli/main.js"), log),
    };
    log(`package: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

export function packageRows(r: PackageResults): string[][] {
  return [
    ["Debian package (.deb, xz) / installed", `${r.debMb} MB / ${r.debInstalledMb} MB`, "—", "Node.js 26 (stripped) is 117 MB of it"],
    ["Controller image (uncompressed)", `${r.imageMb} MB`, `release ${r.previousRelease.split(" ")[0]}'s image ${r.previousImageMb} MB`, `${round(r.imageMb / r.previousImageMb, 2)}× (target ≤ 150 MB)`],
    ["Controller at rest: `serve` from the bundle (package, image), VmRSS 5 s after it answers, median of 3", `${r.bundleServeRssMb} MB`, `from dist/ ${r.distServeRssMb} MB`, `${round(r.bundleServeRssMb / r.distServeRssMb, 2)}× dist`],
  ];
}
