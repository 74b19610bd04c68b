// Renders the HTML pages (landing, starting, expired, failed, unknown) from the Eta templates.
import { Eta } from "eta";
import { describeDuration } from "../core/duration.js";
import type { Demo, LaunchStep } from "../core/model.js";
import type { EndedDemo } from "../core/runtime.js";
import type { AppConfig } from "../config/schema.js";

const STEP_ORDER: Array<{ step: LaunchStep; label: string }> = [
  { step: "creating", label: "Creating your container" },
  { step: "starting", label: "Starting it" },
  { step: "waiting-for-app", label: "Waiting for the app to answer" },
  { step: "routing", label: "Opening your address" },
];

export interface PageContext {
  brandTitle: string;
  apexUrl: string;
}

export class Pages {
  private readonly eta: Eta;

  constructor(templatesDir: string, private readonly context: PageContext) {
    this.eta = new Eta({ views: templatesDir, autoEscape: true, cache: true });
  }

  landing(apps: Record<string, AppConfig>): string {
    const list = Object.entries(apps).map(([name, app]) => ({ name, title: app.title ?? name, description: app.description ?? "", ttl: describeDuration(app.ttl) }));
    return this.eta.render("pages/landing.eta", { brandTitle: this.context.brandTitle, apps: list });
  }

  starting(demo: Demo): string {
    const currentIndex = STEP_ORDER.findIndex((entry) => entry.step === demo.step);
    const steps = STEP_ORDER.map((entry, index) => ({ label: entry.label, state: index < currentIndex ? "done" : index === currentIndex ? "current" : "todo" }));
    return this.eta.render("pages/demo-status.eta", {
      heading: "Your demo is starting",
      message: "It usually takes a few seconds. Stay on this page.",
      steps,
      refreshSeconds: 5,
      pollUrl: "/__demo/status.json",
    });
  }

  ready(): string {
    return this.eta.render("pages/demo-status.eta", { heading: "Your demo is ready", message: "Opening it now.", refreshSeconds: 1 });
  }

  ended(ended: EndedDemo, appKnown: boolean): string {
    const heading = ended.status === "expired" ? "This demo has expired" : ended.status === "failed" ? "This demo could not start" : "This demo was stopped";
    const message =
      ended.status === "expired"
        ? "Its time box is over and its data is gone. You can start a fresh copy in one click."
        : ended.status === "failed"
          ? "Something went wrong on our side. A new launch usually works."
          : "It is no longer running. You can start a fresh copy in one click.";
    return this.eta.render("pages/demo-status.eta", {
      heading,
      message,
      reason: ended.status === "failed" ? `Reason: ${ended.reason}` : undefined,
      relaunch: appKnown ? { action: `${this.context.apexUrl}/launch`, app: ended.app } : undefined,
      homeUrl: this.context.apexUrl,
    });
  }

  unknown(): string {
    return this.eta.render("pages/demo-status.eta", {
      heading: "There is no demo here",
      message: "This address does not belong to any demo we know of. It may have ended long ago, or the link may be mistyped.",
      homeUrl: this.context.apexUrl,
    });
  }

  problem(title: string, detail: string): string {
    return this.eta.render("pages/demo-status.eta", { heading: title, message: detail, homeUrl: this.context.apexUrl });
  }
}
