// Faults around the routes file: a template whose output nginx refuses, one that does not compile, nginx
// stopped and started, the config dir read-only. Serving must not break; each fault is reported once; all
// recovers by itself.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { DEFAULT_TEMPLATES_DIR, PACKAGE_ROOT } from "../../src/nginx/render.js";
import { readWatcherStatus } from "../../src/nginx/watcher-status.js";
import { startStack, waitFor, type Stack } from "../support/stack.js";
import { appYaml, demoStatus, launch, nginxAccepts, routedHosts, served, sleep, visit } from "./common.js";
import { Checks, type Row } from "./report.js";

/** Polls one demo through nginx the whole time, the way a visitor's open tab would. */
class Visitor {
  failures: string[] = [];
  requests = 0;
  private running = true;
  private readonly done: Promise<void>;
  /** Set while nginx is stopped on purpose: failures then are expected, not breakage. */
  expectDown = false;

  constructor(stack: Stack, host: string) {
    this.done = (async () => {
      while (this.running) {
        const { ok } = await visit(stack, host);
        this.requests += 1;
        if (!ok && !this.expectDown) this.failures.push(new Date().toISOString());
        await sleep(50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

export async function watcherFaults(log: (line: string) => void): Promise<Row[]> {
  const watcherLog: string[] = [];
  const capture = (level: string) => (line: string) => watcherLog.push(`${level} ${line}`);
  const operatorDir = "operator-templates";
  const stack = await startStack({
    controller: "child",
    appsYaml: appYaml("hello", { ttl: "30m" }),
    limitsYaml: "limits: { maxDemos: 20, perClient: 20 }",
    extraYaml: `templatesDir: ${operatorDir}`,
    logger: { info: capture("info"), warn: capture("warn"), error: capture("error") },
  });
  const template = path.join(stack.dir, operatorDir, "nginx/routes.conf.eta");
  await mkdir(path.dirname(template), { recursive: true });
  const builtIn = await readFile(path.join(DEFAULT_TEMPLATES_DIR, "nginx/routes.conf.eta"), "utf8");
  const rows: Row[] = [];
  const countIn = (lines: string[] | string, needle: string) => (Array.isArray(lines) ? lines.join("\n") : lines).split(needle).length - 1;
  const readyDemo = async (what: string, timeoutMs = 30_000) => {
    const id = await launch(stack, "hello");
    const view = await waitFor(what, async () => {
      const current = await demoStatus(stack, id);
      return current && current.status !== "starting" ? current : undefined;
    }, timeoutMs).catch(() => undefined);
    return view?.status === "ready" && (await served(stack, view.host)) ? view : undefined;
  };
  let visitor: Visitor | undefined;
  try {
    const first = await readyDemo("the first demo");
    if (!first) throw new Error("the first demo did not become ready");
    visitor = new Visitor(stack, first.host);

    // 1. The operator's template makes a file nginx refuses.
    {
      const checks = new Checks();
      const failuresBefore = visitor.failures.length;
      await writeFile(template, `${builtIn}\nthis_is_not_a_directive on;\n`);
      const demo = await readyDemo("a demo launched with a template nginx refuses");
      checks.that(demo !== undefined, "a demo launched meanwhile was not served (no fallback to the built-in template)");
      const second = await readyDemo("a second demo with the refused template");
      checks.that(second !== undefined, "a second demo was not served");
      checks.that(await nginxAccepts(stack), "the routes file on disk fails nginx -t");
      checks.that(countIn(watcherLog, "failed `") === 1, `the watcher logged the refusal ${countIn(watcherLog, "failed `")} times, not once`);
      checks.that(countIn(stack.childOutput, "is not used") === 1, `the controller reported the template ${countIn(stack.childOutput, "is not used")} times, not once`);
      rows.push(row("routes file refused by nginx -t (operator template)", checks, visitor.failures.length - failuresBefore, "served by the last good file, then by the built-in template; reported once by the watcher and once by the controller"));
    }

    // 2. The operator's template does not even compile; then the operator fixes it.
    {
      const checks = new Checks();
      const failuresBefore = visitor.failures.length;
      await writeFile(template, "<% if ( %>\n");
      const demo = await readyDemo("a demo launched with a template that does not compile");
      checks.that(demo !== undefined, "a demo launched meanwhile was not served");
      checks.that(countIn(stack.childOutput, "does not compile") === 1, "the broken template was not reported exactly once");
      await writeFile(template, `${builtIn}\n# operator template in use\n`);
      const fixed = await readyDemo("a demo launched after the template was fixed");
      checks.that(fixed !== undefined, "a demo launched after the fix was not served");
      checks.that((await routedHosts(stack)).text.includes("# operator template in use"), "the fixed template was not picked up without a restart");
      rows.push(row("operator template that does not compile, then fixed", checks, visitor.failures.length - failuresBefore, "built-in template used meanwhile; the fix is picked up without a restart"));
    }

    // 3. nginx stopped, a launch meanwhile, nginx started again.
    {
      const checks = new Checks();
      const failuresBefore = visitor.failures.length;
      const reloadFailuresBefore = countIn(watcherLog, "-s reload");
      visitor.expectDown = true;
      await stack.nginx.stop();
      const id = await launch(stack, "hello");
      await sleep(4000);
      checks.that(countIn(watcherLog, "-s reload") - reloadFailuresBefore === 1, `the failing reload was logged ${countIn(watcherLog, "-s reload") - reloadFailuresBefore} times, not once`);
      await stack.nginx.start();
      visitor.expectDown = false;
      const recovered = await waitFor("the watcher to recover by itself", async () => (await readWatcherStatus(stack.config.nginx.configDir))?.state === "ok", 20_000).then(() => true, () => false);
      checks.that(recovered, "the watcher did not report ok again without a new change");
      checks.that(countIn(watcherLog, "watcher: recovered") >= 1, "the watcher did not log its recovery");
      const view = await waitFor("the demo launched while nginx was down", async () => {
        const current = await demoStatus(stack, id);
        return current?.status === "ready" && (await served(stack, current.host)) ? current : undefined;
      }, 30_000).catch(() => undefined);
      checks.that(view !== undefined, "the demo launched while nginx was down was not served after nginx came back");
      rows.push(row("nginx stopped and started", checks, visitor.failures.length - failuresBefore, "reload failure logged once, retried with back-off; status ok again by itself once nginx is back"));
    }

    // 4. The config dir turns read-only for a while (a read-only remount or a full disk looks the same).
    {
      const checks = new Checks();
      const failuresBefore = visitor.failures.length;
      const dir = stack.config.nginx.configDir;
      const locked = await lockDir(dir);
      try {
        const id = await launch(stack, "hello");
        await sleep(4000);
        const during = await demoStatus(stack, id);
        checks.that(during?.status === "starting", `a launch while the dir was read-only was ${during?.status} (${during?.reason ?? ""}), not waiting`);
        checks.that(countIn(stack.childOutput, "cannot write the routes file") === 1, `the controller reported the read-only dir ${countIn(stack.childOutput, "cannot write the routes file")} times, not once`);
        await locked.release();
        const view = await waitFor("the demo launched while the dir was read-only", async () => {
          const current = await demoStatus(stack, id);
          return current?.status === "ready" && (await served(stack, current.host)) ? current : undefined;
        }, 30_000).catch(() => undefined);
        checks.that(view !== undefined, "the demo launched while the dir was read-only was not served after it became writable");
        checks.that(countIn(stack.childOutput, "routes file written again") === 1, "the controller did not report the recovery once");
      } finally {
        await locked.release();
      }
      checks.that(await nginxAccepts(stack), "the routes file on disk fails nginx -t");
      rows.push(row(`config dir read-only (${locked.how})`, checks, visitor.failures.length - failuresBefore, "launches wait at 'routing', reported once, written and served once the dir is writable"));
    }
    // 5. The config dir is removed (a clean-up script, a tmpfs remount) and made again by the controller.
    {
      const checks = new Checks();
      const failuresBefore = visitor.failures.length;
      await rm(stack.config.nginx.configDir, { recursive: true, force: true });
      const back = await waitFor("the controller to write its routes again", async () => (await routedHosts(stack).catch(() => undefined))?.hosts.has(first.host), 15_000).then(() => true, () => false);
      checks.that(back, "the controller did not write its routes again within 15 s");
      const started = Date.now();
      const demo = await readyDemo("a demo launched after the config dir was made again");
      const took = Date.now() - started;
      checks.that(demo !== undefined, "a demo launched after the config dir was made again was not served");
      checks.that(took < 8000, `that launch took ${took} ms: the watcher did not see the new directory`);
      checks.that(countIn(watcherLog, "was replaced") === 1, "the watcher did not report the new directory once");
      checks.that(await nginxAccepts(stack), "the routes file on disk fails nginx -t");
      rows.push(row("config dir removed and made again", checks, visitor.failures.length - failuresBefore, `the controller writes its routes again, the watcher watches the new directory; next launch served in ${took} ms`));
    }
    log(`  visitor polled ${visitor.requests} times through all of it; ${visitor.failures.length} failed outside the nginx stop`);
    return rows;
  } finally {
    await visitor?.stop();
    // Both sides' own words, for whoever reads a failed run.
    await writeFile(path.join(PACKAGE_ROOT, "test-output/chaos-watcher.log"), `${watcherLog.join("\n")}\n\n--- controller ---\n${stack.childOutput}`).catch(() => {});
    await stack.close();
  }
}

function row(fault: string, checks: Checks, brokenRequests: number, detail: string): Row {
  if (brokenRequests > 0) checks.that(false, `${brokenRequests} request(s) to a ready demo failed`);
  return {
    fault,
    injected: 1,
    survived: checks.failures.length === 0 ? 1 : 0,
    lost: brokenRequests,
    detail: checks.failures.length === 0 ? `${detail}; a ready demo answered every request` : `FAILED: ${checks.failures.join("; ")}`,
  };
}

/** Makes a directory read-only even for root: a read-only bind mount over it, or the immutable attribute. */
async function lockDir(dir: string): Promise<{ how: string; release: () => Promise<void> }> {
  let released = false;
  const mounted = await execa("sh", ["-c", `mount --bind "${dir}" "${dir}" && mount -o remount,bind,ro "${dir}"`], { reject: false, all: true });
  if (mounted.exitCode === 0) {
    return { how: "read-only bind mount", release: async () => void (released || ((released = true), await execa("umount", [dir], { reject: false }))) };
  }
  await execa("umount", [dir], { reject: false });
  const immutable = await execa("chattr", ["+i", dir], { reject: false, all: true });
  if (immutable.exitCode === 0) return { how: "chattr +i", release: async () => void (released || ((released = true), await execa("chattr", ["-i", dir], { reject: false }))) };
  throw new Error(`cannot make ${dir} read-only to play a full disk (mount: ${mounted.all}; chattr: ${immutable.all}); run the suite as root`);
}
