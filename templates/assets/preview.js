// demo-launcher preview pages: the build's log grows live (server-sent events, resumed after a reload from the
// offset the page was rendered at) and the page turns into the app when the preview is ready.
(function () {
  "use strict";
  var log = document.querySelector("[data-build-log]");
  var note = document.querySelector("[data-build-note]");
  var ORDER = ["queued", "fetching", "building", "starting", "ready"];
  if (!log || !window.EventSource) {
    setTimeout(function () { window.location.reload(); }, 5000);
    return;
  }
  var atBottom = true;
  log.addEventListener("scroll", function () { atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8; });
  log.scrollTop = log.scrollHeight;

  function showState(build) {
    var index = ORDER.indexOf(build.state);
    document.querySelectorAll("[data-build-step]").forEach(function (item) {
      var at = ORDER.indexOf(item.getAttribute("data-build-step"));
      item.className = at < index ? "done" : at === index ? "current" : "todo";
    });
    if (note) note.textContent = build.note || "";
  }

  var source = new EventSource("/__demo/build-events?from=" + encodeURIComponent(log.getAttribute("data-offset") || "0"));
  source.addEventListener("log", function (event) {
    log.appendChild(document.createTextNode(event.data + "\n"));
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("state", function (event) {
    var build = JSON.parse(event.data);
    showState(build);
    // Ready: nginx serves the app at this very address now. Failed: the page shows why, with a rebuild button.
    if (build.state === "ready" || build.state === "failed" || build.state === "cancelled" || build.state === "timed-out") {
      source.close();
      setTimeout(function () { window.location.reload(); }, build.state === "ready" ? 100 : 300);
    }
  });
})();
