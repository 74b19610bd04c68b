// demo-launcher landing page: launches without leaving the page until there is a demo to go to; says
// problems in place. Without JS the plain form post does the same with a 303.
(function () {
  "use strict";
  function say(status, text, busy) {
    status.textContent = "";
    if (busy) {
      var spin = document.createElement("span");
      spin.className = "spinner";
      spin.setAttribute("aria-hidden", "true");
      status.appendChild(spin);
    }
    status.appendChild(document.createTextNode(text));
  }

  document.querySelectorAll("form[data-launch]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch) return; // the plain form post does the job
      event.preventDefault();
      var status = form.querySelector("[data-status]");
      var button = form.querySelector("button");
      var app = form.querySelector("input[name=app]").value;
      button.disabled = true;
      say(status, "Launching…", true);
      fetch("/api/demos", { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ app: app }) })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (answer) {
          if (!answer.ok) {
            say(status, answer.body.detail || "The launch did not work. Please try again.", false);
            button.disabled = false;
            return;
          }
          // The demo's own address shows its real progress (or the visitor's place in line) and
          // becomes the app by itself; a problem (too many launches, host full) is said right here.
          say(status, "Opening your demo…", true);
          window.location.assign(answer.body.entryUrl || answer.body.url);
        })
        .catch(function () { form.submit(); });
    });
  });
})();
