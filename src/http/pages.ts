// Renders the HTML pages (landing, starting, queued, expired, failed, unknown) and the browser assets,
// from the built-in templates or, file by file, from the operator's own templates directory.
import type { JobView } from "../api/views.js";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Eta } from "eta";
import { describeDuration } from "../core/duration.js";
import type { Demo, LaunchStep } from "../core/model.js";
import type { EndedDemo } from "../core/runtime.js";
import type { AppConfig } from "../config/schema.js";

const STEP_ORDER: Array<{ step: LaunchStep; label: string }> = [
  { step: "creating", label: "Creating your container" },
  { step: "starting", label: "Starting it" },
  { step: "waiting-for-app", label: "Waiting for the app to answer" },
  { step: "seeding", label: "Loading its data" },
  { step: "routing", label: "Opening your address" },
];

export interface Brand {
  title: string;
  text: string;
  logo?: string;
  accentColor: string;
  backgroundColor: string;
}

export interface PageContext {
  brand: Brand;
  apexUrl: string;
}

export class Pages {
  private readonly eta: Eta;
  private readonly roots: string[];

  constructor(builtinDir: string, operatorDir: string | undefined, private readonly context: PageContext) {
    this.roots = operatorDir ? [operatorDir, builtinDir] : [builtinDir];
    const roots = this.roots;
    this.eta = new Eta({ views: builtinDir, autoEscape: true, cache: true });
    // Template names are relative to the templates root; the operator's file wins when it exists.
    this.eta.resolvePath = (template: string) => {
      const name = template.replace(/^\.\//, "");
      if (name.includes("..")) throw new Error(`template name ${JSON.stringify(template)} leaves the templates directory`);
      for (const root of roots) {
        const candidate = path.join(root, name);
        if (existsSync(candidate)) return candidate;
      }
      throw new Error(`template ${name} not found in ${roots.join(" or ")}`);
    };
  }

  /** A file from templates/assets (the operator's copy first); read once at start. */
  asset(name: string): string {
    for (const root of this.roots) {
      const candidate = path.join(root, "assets", name);
      if (existsSync(candidate)) return readFileSync(candidate, "utf8");
    }
    throw new Error(`asset ${name} not found`);
  }

  private render(template: string, data: Record<string, unknown>): string {
    return this.eta.render(template, { brand: this.context.brand, hasLogo: Boolean(this.context.brand.logo), ...data });
  }

  landing(apps: Record<string, AppConfig>): string {
    const list = Object.entries(apps).map(([name, app]) => ({ name, title: app.title ?? name, description: app.description ?? "", ttl: describeDuration(app.ttl) }));
    return this.render("pages/landing.eta", { title: this.context.brand.title, apps: list });
  }

  starting(demo: Demo): string {
    // Only a seeded preview loads data: the step is shown while it runs, not promised to every demo.
    const order = STEP_ORDER.filter((entry) => entry.step !== "seeding" || demo.step === "seeding");
    const currentIndex = order.findIndex((entry) => entry.step === demo.step);
    const steps = order.map((entry, index) => ({ step: entry.step, label: entry.label, state: index < currentIndex ? "done" : index === currentIndex ? "current" : "todo" }));
    return this.render("pages/demo-status.eta", {
      title: "Your demo is starting",
      kind: "starting",
      message: "It usually takes a few seconds. Stay on this page: it moves on by itself.",
      steps,
      ...(demo.progress ? { progress: demo.progress } : {}),
      poll: { while: "starting" },
      // Without JavaScript (the refresh is in <noscript>): most demos start in a few seconds, and the next load is held
      // at nginx's check until the app answers (up to 2 s), so it lands on the app. 10 s kept such a visitor waiting
      // for a demo that had started long before.
      refreshSeconds: 3,
    });
  }

  queued(position: number, estimatedWaitSeconds: number): string {
    return this.render("pages/demo-status.eta", {
      title: "You are in line",
      kind: "queued",
      message: "Every demo slot is taken right now. Keep this page open: your demo starts by itself when a slot frees, and this page takes you there.",
      queue: { position, wait: estimatedWaitSeconds > 0 ? `about ${describeDuration(Math.max(60_000, Math.ceil(estimatedWaitSeconds / 60) * 60_000))}` : "less than a minute" },
      poll: { while: "queued" },
      refreshSeconds: 15,
    });
  }

  /** A ready demo's own page (/__demo/): its time left, and "Reset my demo" with the reset's progress. */
  demoHome(demo: Demo, options: { canReset: boolean; job?: JobView }): string {
    const job = options.job;
    const working = job && (job.status === "queued" || job.status === "running");
    return this.render("pages/demo-status.eta", {
      title: job ? (working ? "Resetting your demo" : job.status === "done" ? "Your demo is reset" : "The reset did not work") : "Your demo",
      kind: "home",
      message: job
        ? working
          ? `Bringing back "${String(job.source)}". This page moves on by itself.`
          : job.status === "done"
            ? `It has the state "${String(job.source)}" again.`
            : `Your demo keeps the state it had. Reason: ${String(job.reason ?? "unknown")}`
        : `It is yours until ${new Date(demo.expiresAt).toISOString().slice(11, 16)} UTC.`,
      reset: options.canReset && !working ? { action: "/__demo/rewind" } : undefined,
      open: true,
      ...(working ? { refreshSeconds: 1 } : {}),
    });
  }

  /** A served preview's own page (/__demo/): what it serves, and "Start fresh". */
  /** `gated`: it links the person's access page (sign-out, share links). */
  previewHome(demo: Demo, gated = false): string {
    const facts = demo.preview;
    const what = facts?.pr ? `pull request #${facts.pr}` : facts?.branch ? `branch ${facts.branch}` : "a commit";
    return this.render("pages/demo-status.eta", {
      title: "This preview",
      kind: "home",
      message: `It serves ${what}${facts?.commit ? ` at ${facts.commit.slice(0, 12)}` : ""} of ${demo.app}.`,
      reset: { action: "/__demo/reset", text: "Start over from the first data of its newest build: every change made in this preview is lost, for everybody who reviews it.", button: "Start fresh" },
      open: true,
      ...(gated ? { accessPage: "/__demo/access/" } : {}),
    });
  }

  ready(): string {
    return this.render("pages/demo-status.eta", { title: "Your demo is ready", kind: "ready", message: "Opening it now.", refreshSeconds: 1 });
  }

  ended(ended: EndedDemo, appKnown: boolean): string {
    const title = ended.status === "expired" ? "This demo has expired" : ended.status === "failed" ? "This demo could not start" : "This demo was stopped";
    const message =
      ended.status === "expired"
        ? "Its time is up and its data is gone. You can start a fresh copy in one click."
        : ended.status === "failed"
          ? "Something went wrong while starting it. A new launch usually works."
          : "It is no longer running. You can start a fresh copy in one click.";
    return this.render("pages/demo-status.eta", {
      title,
      kind: ended.status,
      message,
      reason: ended.status === "failed" || ended.reason === "you left the waiting line" ? ended.reason : undefined,
      relaunch: appKnown ? { action: `${this.context.apexUrl}/launch`, app: ended.app } : undefined,
      homeUrl: this.context.apexUrl,
    });
  }

  /** A preview's build: its steps, the tail of its log (followed live), and on failure why, with a rebuild button. */
  previewBuild(view: { source: string; ref: string; state: string; note?: string; reason?: string; logTail: string; offset: number; failedLines?: string; link?: string; linkText?: string }): string {
    const order = ["queued", "fetching", "building", "starting", "ready"];
    const labels: Record<string, string> = { queued: "Waiting for a free builder", fetching: "Fetching the repository", building: "Building the image", starting: "Starting the app", ready: "Ready" };
    const failed = !order.includes(view.state);
    const at = order.indexOf(view.state);
    const steps = order.map((step, index) => ({ step, label: labels[step], state: failed ? "todo" : index < at ? "done" : index === at ? "current" : "todo" }));
    const title = view.state === "failed" ? "The preview could not be built" : view.state === "timed-out" ? "The build took too long" : view.state === "cancelled" ? "The build was cancelled" : view.state === "starting" ? "Starting the preview" : "Building the preview";
    const message = failed ? "The lines below say why. Fix it in the branch and push, or build it again." : "This page follows the build and turns into the app when it is ready. You can leave it open.";
    return this.render("pages/preview-build.eta", { ...view, title, message, steps, follow: !failed, homeUrl: this.context.apexUrl, ...(failed ? {} : { refreshSeconds: 30, poll: true }) });
  }

  waking(): string {
    return this.render("pages/demo-status.eta", { title: "Waking the preview up", kind: "starting", message: "Nobody had used it for a while, so it was asleep. It takes a few seconds; this page moves on by itself.", poll: { while: "starting" }, refreshSeconds: 10 });
  }

  unknown(): string {
    return this.render("pages/demo-status.eta", {
      title: "There is no demo here",
      kind: "unknown",
      message: "This address does not belong to any demo we know of. It may have ended long ago, or the link may be mistyped.",
      homeUrl: this.context.apexUrl,
    });
  }

  /** The console's sign-in: the provider's button, the token form, or (from this machine, with neither) one button. */
  signIn(view: { message?: string; oidc?: { issuer: string }; token: boolean; local: boolean }): string {
    return this.render("pages/sign-in.eta", { title: "Sign in to the console", ...view });
  }

  signedIn(): string {
    return this.render("pages/demo-status.eta", { title: "Signed in", kind: "ready", message: "Opening the console.", refreshTo: "/__admin/" });
  }

  console(view: { who: string; csrf: string; expiresAt: string }): string {
    return this.render("pages/console.eta", { title: "Console", ...view });
  }

  /** What a person who may not (yet) open a gated demo sees: the way in its access mode offers, and why not. */
  access(view: { mode: "signin" | "password" | "owner" | "none"; reason?: string; message?: string; to: string; issuer?: string; app: string }): string {
    const title = view.mode === "owner" ? "This demo belongs to someone else" : view.mode === "password" ? "This demo needs a password" : view.mode === "signin" ? "Sign in to open this demo" : "This demo is not open to you";
    const lead = view.mode === "owner" ? "It was launched in another browser." : "Its owners keep it to the people they choose.";
    return this.render("pages/access.eta", { title, lead, apexUrl: this.context.apexUrl, homeUrl: this.context.apexUrl, ...view });
  }

  /** A gated demo's page for the person in it: how they got in, sign-out, and (a signed-in member of a preview) share links. */
  accessHome(view: { host: string; how: string; canShare: boolean; csrf: string; link?: { url: string; until: string } }): string {
    return this.render("pages/access-home.eta", { title: "Your access", homeUrl: this.context.apexUrl, ...view });
  }

  problem(title: string, detail: string): string {
    return this.render("pages/demo-status.eta", { title, kind: "problem", message: detail, homeUrl: this.context.apexUrl });
  }
}
