// demo-launcher time-left banner, added by nginx to a demo's HTML pages. It lives in a shadow root so
// the app's styles and ours never meet, and it never blocks the page: it sits in a corner and can hide.
(function () {
  "use strict";
  if (window.__demoLauncherBanner || !document.body || !document.body.attachShadow) return;
  window.__demoLauncherBanner = true;
  var WARN_SECONDS = 60;
  var host = document.createElement("div");
  host.setAttribute("data-demo-launcher-banner", "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ".bar{position:fixed;right:12px;bottom:12px;z-index:2147483647;display:flex;align-items:center;gap:8px;" +
    "font:14px/1.3 system-ui,sans-serif;color:#fff;background:rgba(27,31,39,.88);padding:8px 10px 8px 14px;" +
    "border-radius:999px;box-shadow:0 2px 8px rgba(0,0,0,.3);max-width:calc(100vw - 24px)}" +
    ".bar.warn{background:#b3261e;border-radius:10px}" +
    ".bar.hidden{display:none}" +
    "button{font:inherit;color:inherit;background:transparent;border:0;cursor:pointer;padding:2px 6px;border-radius:6px;min-width:28px;min-height:28px}" +
    "button:focus-visible{outline:2px solid #fff}" +
    "</style>" +
    "<div class=\"bar\" role=\"status\" aria-live=\"polite\"><span class=\"text\">Demo</span>" +
    "<button type=\"button\" class=\"reset\" hidden>Reset my demo</button>" +
    "<button type=\"button\" class=\"hide\" aria-label=\"Hide the time left\">×</button></div>";
  document.body.appendChild(host);
  var bar = root.querySelector(".bar");
  var text = root.querySelector(".text");
  var expiresAt = 0;
  var hiddenByVisitor = false;
  var ending = false;
  var resetButton = root.querySelector(".reset");
  var resetting = false;
  // "Reset my demo": the launcher rewinds this demo's database to its original data, then the page reloads.
  resetButton.addEventListener("click", function () {
    if (resetting || !window.confirm("Reset this demo to its original data? Your changes are lost.")) return;
    resetting = true;
    resetButton.disabled = true;
    text.textContent = "Resetting your demo…";
    fetch("/__demo/rewind", { method: "POST", headers: { accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) { followJob(job); })
      .catch(function () { resetDone("The reset could not start. Try again."); });
  });
  function followJob(job) {
    if (job.status === "done") return window.location.reload();
    if (job.status === "failed" || !job.id) return resetDone("The reset did not work: " + (job.reason || job.detail || "unknown reason") + ". Your demo keeps its data.");
    setTimeout(function () {
      fetch("/__demo/jobs/" + encodeURIComponent(job.id), { cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(followJob)
        .catch(function () { followJob(job); });
    }, 400);
  }
  function resetDone(message) {
    resetting = false;
    resetButton.disabled = false;
    text.textContent = message;
  }
  root.querySelector(".hide").addEventListener("click", function () {
    hiddenByVisitor = true;
    bar.classList.add("hidden");
  });

  function format(seconds) {
    if (seconds >= 3600) return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
    if (seconds >= 120) return Math.ceil(seconds / 60) + " min";
    return seconds + " s";
  }

  function tick() {
    if (!expiresAt || resetting) return;
    var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    if (left <= WARN_SECONDS) {
      bar.classList.add("warn");
      // A warning shows even if the visitor hid the banner earlier: they would lose their work.
      bar.classList.remove("hidden");
      text.textContent = left > 0 ? "This demo ends in " + format(left) + ". Your changes will be lost." : "This demo has ended.";
    } else {
      // A notice (the demo moved to another machine and started fresh) stays in front until the visitor hides the bar.
      text.textContent = (notice ? notice + " · " : "") + "Demo · " + format(left) + " left";
      if (hiddenByVisitor) bar.classList.add("hidden");
    }
    if (left === 0 && !ending) {
      ending = true;
      waitForEnd();
    }
  }

  // Once the time is up, wait until the launcher has taken the demo down, then show its expired page.
  function waitForEnd() {
    fetch("/__demo/status.json", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (d) { if (d.status === "ready") setTimeout(waitForEnd, 1000); else window.location.reload(); })
      .catch(function () { setTimeout(waitForEnd, 1000); });
  }

  var notice = "";
  function sync() {
    fetch("/__demo/status.json", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.expiresAt) expiresAt = Date.parse(d.expiresAt);
        notice = d.notice || "";
        resetButton.hidden = !d.canReset;
        tick();
      })
      .catch(function () {});
  }
  sync();
  setInterval(tick, 1000);
  setInterval(sync, 30000);
})();
