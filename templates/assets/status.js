// demo-launcher status pages: follow the demo while it starts or waits in line, then move on by itself.
(function () {
  "use strict";
  var script = document.currentScript;
  var waitingFor = script && script.getAttribute("data-while");
  var LABELS = ["creating", "starting", "waiting-for-app", "routing"];

  function minutes(seconds) {
    if (seconds < 60) return "less than a minute";
    var m = Math.ceil(seconds / 60);
    return "about " + m + " minute" + (m === 1 ? "" : "s");
  }

  function showStep(step) {
    var index = LABELS.indexOf(step);
    document.querySelectorAll("[data-step]").forEach(function (item) {
      var at = LABELS.indexOf(item.getAttribute("data-step"));
      item.className = at < index ? "done" : at === index ? "current" : "todo";
    });
  }

  function poll() {
    fetch("/__demo/status.json", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.status !== waitingFor) {
          // Ready (nginx serves it now), failed, or out of the line: the same URL shows what is next.
          window.location.reload();
          return;
        }
        if (d.step) showStep(d.step);
        var progress = document.querySelector("[data-progress]");
        if (progress) progress.textContent = d.progress || "";
        if (d.queue) {
          var position = document.querySelector("[data-position]");
          var wait = document.querySelector("[data-wait]");
          if (position) position.textContent = String(d.queue.position);
          if (wait) wait.textContent = minutes(d.queue.estimatedWaitSeconds);
        }
        setTimeout(poll, waitingFor === "queued" ? 2000 : 400);
      })
      .catch(function () { setTimeout(poll, 1500); });
  }
  setTimeout(poll, 300);
})();
