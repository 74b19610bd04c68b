// Benchmark section: real apps on real databases. A rewind of WordPress with a database of over 100 MB beside
// the same restore done by hand (the floor), a cold launch from the image's default state beside a first start
// that installs WordPress from scratch, and requests/s through a shared demo with 1 and with 3 replicas.
import { execa } from "execa";
import { containerOf, execIn } from "../test/support/container-exec.js";
import { EXAMPLE_APPS_YAML, ensureExampleImages, WORDPRESS_IMAGE } from "../test/support/example-images.js";
import { freePort, startStack, waitFor, type Stack } from "../test/support/stack.js";
import { median, round, until200 } from "./measure.js";
import type { DemoView, JobView, SharedView } from "../src/api/views.js";

export interface DatabaseResults {
  rounds: number;
  dumpMb: number;
  rewindMs: number;
  floorRestoreMs: number;
  rewindRatio: number;
  coldLaunchMs: number;
  installFromScratchMs: number;
  coldRatio: number;
  shared1Rps: number;
  shared3Rps: number;
  sharedRatio: number;
}

/** ~100 MB of posts, dumped to a file in the container: the `big` source of the benchmark's WordPress. */
const GROW_SQL = `INSERT INTO wp_posts (post_author, post_title, post_content, post_excerpt, to_ping, pinged, post_content_filtered, post_status, post_date, post_date_gmt, post_modified, post_modified_gmt)
SELECT 1, CONCAT('Bench post ', seq), REPEAT(CONCAT('Paragraph ', seq, ' of a realistic blog post, written for the rewind benchmark. '), 650), '', '', '', '', 'publish', NOW(), NOW(), NOW(), NOW() FROM seq_1_to_2200`;

const APPS = EXAMPLE_APPS_YAML.replace("        broken: { driver: mariadb, file: /tmp/broken.sql, database: wordpress }", "        big: { driver: mariadb, file: /tmp/big.sql, database: wordpress }");

export async function databasesBench(rounds: number, log: (line: string) => void): Promise<DatabaseResults> {
  await ensureExampleImages();
  const stack = await startStack({
    appsYaml: APPS,
    limitsYaml: "limits: { maxDemos: 6, perClient: 6 }",
    nginxYaml: "  drain: 1s",
    extraYaml: "shared:\n  one-replica: { app: wordpress, replicas: 1 }\n  three-replicas: { app: wordpress, replicas: 3 }",
  });
  try {
    const { rewindMs, floorRestoreMs, dumpMb } = await rewindAgainstFloor(stack, rounds, log);
    const { coldLaunchMs, installFromScratchMs } = await coldAgainstInstall(stack, rounds, log);
    const shared1Rps = await sharedRps(stack, "one-replica");
    const shared3Rps = await sharedRps(stack, "three-replicas");
    log(`databases: shared demo 1 replica ${shared1Rps} req/s, 3 replicas ${shared3Rps} req/s`);
    return { rounds, dumpMb, rewindMs, floorRestoreMs, rewindRatio: round(rewindMs / floorRestoreMs, 2), coldLaunchMs, installFromScratchMs, coldRatio: round(coldLaunchMs / installFromScratchMs, 2), shared1Rps, shared3Rps, sharedRatio: round(shared3Rps / shared1Rps, 2) };
  } finally {
    await stack.close();
  }
}

/** Product: POST rewind → job done (polled every 20 ms). Floor: the same load into a scratch database by hand, with one docker exec. */
async function rewindAgainstFloor(stack: Stack, rounds: number, log: (line: string) => void) {
  const launched = JSON.parse((await stack.api("POST", "/api/demos", { app: "wordpress" })).body) as DemoView;
  await waitFor("the WordPress demo", async () => JSON.parse((await stack.api("GET", `/api/demos/${launched.id}`)).body).status === "ready", 120_000, 100);
  const container = await containerOf(stack.docker, launched.id);
  await execIn(stack.docker, container, ["mariadb", "wordpress", "-e", GROW_SQL]);
  await execIn(stack.docker, container, ["sh", "-c", "mariadb-dump --single-transaction --skip-dump-date wordpress > /tmp/big.sql"]);
  const dumpMb = round(Number((await execIn(stack.docker, container, ["stat", "-c", "%s", "/tmp/big.sql"])).trim()) / 1024 ** 2);
  const product: number[] = [];
  const floor: number[] = [];
  for (let index = 0; index < rounds; index += 1) {
    const started = performance.now();
    const job = JSON.parse((await stack.api("POST", `/api/demos/${launched.id}/rewind`, { source: "big" })).body) as JobView;
    const done = await waitFor("the rewind", async () => {
      const view = JSON.parse((await stack.api("GET", `/api/jobs/${job.id}`)).body) as JobView;
      if (view.status === "failed") throw new Error(`rewind failed: ${view.reason}`);
      return view.status === "done";
    }, 300_000, 20);
    if (done) product.push(performance.now() - started);
    const floorStarted = performance.now();
    await execIn(stack.docker, container, ["sh", "-c", "mariadb -e 'DROP DATABASE IF EXISTS floor; CREATE DATABASE floor' && mariadb floor < /tmp/big.sql"]);
    floor.push(performance.now() - floorStarted);
    await execIn(stack.docker, container, ["mariadb", "-e", "DROP DATABASE floor"]);
  }
  log(`databases: rewind of a ${dumpMb} MB dump p50 ${round(median(product))} ms, by hand ${round(median(floor))} ms`);
  await stack.api("DELETE", `/api/demos/${launched.id}`);
  return { rewindMs: round(median(product)), floorRestoreMs: round(median(floor)), dumpMb };
}

/** What a first start costs without a prepared image: a fresh data directory, WordPress's installer, then the site. */
const INSTALL_FROM_SCRATCH = `set -e
rm -rf /var/lib/mysql/* && mariadb-install-db --user=mysql --skip-test-db >/dev/null 2>&1
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
mariadbd --user=mysql --skip-networking --skip-log-bin --innodb-buffer-pool-size=32M --performance-schema=OFF &
until mariadb-admin --silent ping 2>/dev/null; do sleep 0.05; done
mariadb -e "CREATE DATABASE wordpress; CREATE USER wordpress@localhost IDENTIFIED BY 'wordpress'; GRANT ALL ON wordpress.* TO wordpress@localhost"
php /opt/demo/install.php >/dev/null
exec env PHP_CLI_SERVER_WORKERS=4 php -S 0.0.0.0:8080 -t /usr/share/wordpress`;

async function coldAgainstInstall(stack: Stack, rounds: number, log: (line: string) => void) {
  const cold: number[] = [];
  const install: number[] = [];
  for (let index = 0; index < rounds; index += 1) {
    const started = performance.now();
    const launched = JSON.parse((await stack.api("POST", "/api/demos", { app: "wordpress" })).body) as DemoView;
    cold.push(await until200(stack.nginxPort, launched.host, "/wp-login.php", "user_login", started, 120_000, 20));
    await stack.api("DELETE", `/api/demos/${launched.id}`);
    const port = await freePort();
    const name = `demo-launcher-bench-install-${index}`;
    const installStarted = performance.now();
    await execa("docker", ["run", "-d", "--rm", "--name", name, "-p", `127.0.0.1:${port}:8080`, "-m", "512m", "--cpus", "1", WORDPRESS_IMAGE, "sh", "-c", INSTALL_FROM_SCRATCH]);
    try {
      install.push(await until200(port, "bench.demo.localhost", "/wp-login.php", "user_login", installStarted, 180_000, 20));
    } finally {
      await execa("docker", ["rm", "-f", name], { reject: false });
    }
  }
  log(`databases: WordPress cold launch p50 ${round(median(cold))} ms, first start installing from scratch ${round(median(install))} ms`);
  return { coldLaunchMs: round(median(cold)), installFromScratchMs: round(median(install)) };
}

/** wrk on the front page through nginx for 10 s, 8 connections. */
async function sharedRps(stack: Stack, name: string): Promise<number> {
  const replicas = name === "one-replica" ? 1 : 3;
  await waitFor(`${name} to serve`, async () => {
    const view = (JSON.parse((await stack.api("GET", "/api/shared")).body).shared as SharedView[]).find((entry) => entry.name === name)!;
    return view.status === "ready" && view.instances.filter((instance) => instance.health === "healthy").length === replicas;
  }, 180_000, 200);
  const run = await execa("wrk", ["-t2", "-c8", "-d10s", "-H", `Host: ${name}.demo.localhost`, `http://127.0.0.1:${stack.nginxPort}/`], { reject: false, all: true });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.all ?? "")?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(run.all ?? "")?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`${name}: ${non2xx} answers were not 2xx/3xx under load`);
  return round(rps);
}

export function databaseRows(r: DatabaseResults): string[][] {
  return [
    [`Rewind of WordPress to a ${r.dumpMb} MB dump (POST → job done)`, `${r.rewindMs} ms`, `the same load by hand ${r.floorRestoreMs} ms`, `${r.rewindRatio}× floor (target ≤ 1.2)`],
    ["WordPress cold launch from its default state (POST → login page via nginx)", `${r.coldLaunchMs} ms`, `first start installing from scratch ${r.installFromScratchMs} ms`, `${r.coldRatio}× (lower is better)`],
    ["Requests/s through a shared WordPress, 3 replicas against 1 (wrk, 8 connections)", `${r.shared3Rps} req/s`, `1 replica ${r.shared1Rps} req/s`, `${r.sharedRatio}×`],
  ];
}
