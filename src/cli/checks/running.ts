// doctor's first lines: what runs now (the controller, nginx) and the watcher's last word, read in that light.
import type { Config } from "../../config/load.js";
import { formatAddress } from "../../nginx/render.js";
import { isListening } from "../../nginx/private-nginx.js";
import { readWatcherStatus } from "../../nginx/watcher-status.js";
import type { Check } from "./host.js";

/** Asks the controller's own health URL; its demos count comes from the status it gives anyone on this machine. */
async function controllerAnswers(config: Config): Promise<boolean> {
  try {
    const answer = await fetch(`http://${formatAddress(config.listen)}/healthz`, { signal: AbortSignal.timeout(2000) });
    return answer.ok;
  } catch {
    return false;
  }
}

export async function runningChecks(config: Config): Promise<{ checks: Check[]; nginxRunning: boolean }> {
  const controller = await controllerAnswers(config);
  const nginxRunning = await isListening(config.nginx.listen);
  return {
    nginxRunning,
    checks: [
      controller
        ? { name: "controller", ok: true, detail: `running: answers on ${formatAddress(config.listen)}` }
        : { name: "controller", ok: "off", detail: `not running (nothing answers on ${formatAddress(config.listen)}); \`npm start\` or \`systemctl start demo-launcher\` starts it` },
      nginxRunning
        ? { name: "nginx running", ok: true, detail: `answers on ${formatAddress(config.nginx.listen)}` }
        : { name: "nginx running", ok: "off", detail: `not running (nothing answers on ${formatAddress(config.nginx.listen)})` },
    ],
  };
}

/** The watcher's last outcome; a reload that failed because nginx is not running belongs to the stop, not to a fault. */
export async function watcherCheck(config: Config, nginxRunning: boolean): Promise<Check> {
  const status = await readWatcherStatus(config.nginx.configDir);
  if (!status) return { name: "watcher", ok: true, detail: "has not reported yet (is `demo-launcher watch-nginx` running?)" };
  if (!status.lastError) return { name: "watcher", ok: true, detail: `applied routes generation ${status.appliedGeneration} (${status.reloads} reload(s) since it started)` };
  if (!nginxRunning && status.lastError.kind === "reload") return { name: "watcher", ok: "off", detail: `nginx is not running, so its last reload could not reach it (${status.lastError.at}); not a fault while nginx is stopped` };
  return { name: "watcher", ok: false, detail: `last error at ${status.lastError.at}: ${status.lastError.message}` };
}
