// The operator's console in the browser: renders the live state from server-sent events and runs the confirmed actions.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const report = document.querySelector("[data-report]");
  const connection = document.querySelector("[data-connection]");
  const filterInput = document.querySelector("[data-filter]");
  let state = null;
  let leaving = false;
  /** To the sign-in once: the stream's end and a failed request can both notice that the session ended. */
  function signInAgain() {
    if (leaving) return;
    leaving = true;
    location.href = "/__admin/sign-in";
  }
  /** Server time minus ours: time left is counted against the controller's clock. */
  let offset = 0;
  const tables = {};

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function say(text, bad) {
    report.textContent = text;
    report.classList.toggle("bad", Boolean(bad));
  }

  function left(expiresAt) {
    const seconds = Math.max(0, Math.round((Date.parse(expiresAt) - (Date.now() + offset)) / 1000));
    if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
    if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
    return `${seconds} s`;
  }
  const since = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const badge = (text) => el("span", { className: `state-${text}` }, text);

  // ---- actions -------------------------------------------------------------------------------------
  async function api(method, url, body) {
    const response = await fetch(url, { method, credentials: "same-origin", headers: { "x-csrf-token": csrf, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    if (response.status === 401) {
      signInAgain();
      throw new Error("Your session has ended; sign in again.");
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || `${response.status} ${response.statusText}`);
    }
    return response.status === 204 ? {} : response.json().catch(() => ({}));
  }

  const confirmDialog = document.querySelector("[data-confirm]");
  /** Every action is confirmed in a dialog (keyboard: Enter confirms, Escape cancels) and its outcome reported. */
  function confirmAction(title, text, field) {
    confirmDialog.querySelector("[data-confirm-title]").textContent = title;
    confirmDialog.querySelector("[data-confirm-text]").textContent = text;
    const holder = confirmDialog.querySelector("[data-confirm-field]");
    holder.replaceChildren(...(field ? [field.node] : []));
    confirmDialog.returnValue = "";
    confirmDialog.showModal();
    (field ? field.input : confirmDialog.querySelector("[data-confirm-ok]")).focus();
    return new Promise((resolve) => confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "ok" ? (field ? field.input.value : true) : null), { once: true }));
  }

  function textField(label, value, placeholder) {
    const input = el("input", { type: "text", value, placeholder, name: "value", "aria-label": label });
    return { input, node: el("label", {}, `${label} `, input) };
  }
  function selectField(label, options) {
    const input = el("select", { name: "value", "aria-label": label }, options.map((option) => el("option", { value: option }, option)));
    return { input, node: el("label", {}, `${label} `, input) };
  }

  /** A result to pass on (a share link): the text, the value in a field that selects itself, and a Copy button. */
  function sayWithCopy(text, value) {
    const field = el("input", { type: "text", readonly: true, value, "aria-label": "Link", "data-copy-value": true, onfocus: (event) => event.target.select() });
    const button = el("button", { className: "secondary", "data-action": "copy", onclick: async () => {
      try {
        await navigator.clipboard.writeText(value);
        button.textContent = "Copied";
      } catch {
        field.focus();
        button.textContent = "Press Ctrl+C";
      }
    } }, "Copy");
    report.replaceChildren(text, " ", field, " ", button);
    report.classList.remove("bad");
  }

  async function act(title, text, field, run, done) {
    const answer = await confirmAction(title, text, field);
    if (answer === null) return say(`${title}: cancelled.`);
    say(`${title}…`);
    try {
      const result = await run(answer);
      const outcome = done(answer, result);
      if (typeof outcome === "string") say(outcome);
      else sayWithCopy(outcome.text, outcome.copy);
    } catch (error) {
      say(`${title} failed: ${error.message}`, true);
    }
  }

  const logDialog = document.querySelector("[data-log]");
  let logAbort = null;
  logDialog.addEventListener("close", () => logAbort && logAbort.abort());
  /** Shows a log, reading the answer as it comes (a followed build log stays open until the build ends). */
  async function showLog(title, url) {
    const pre = logDialog.querySelector("[data-log-text]");
    logDialog.querySelector("[data-log-title]").textContent = title;
    pre.textContent = "Loading…";
    logDialog.showModal();
    pre.focus();
    logAbort = new AbortController();
    try {
      const response = await fetch(url, { credentials: "same-origin", signal: logAbort.signal });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        pre.textContent = problem.detail || `${response.status} ${response.statusText}`;
        return;
      }
      pre.textContent = "";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.textContent += decoder.decode(value, { stream: true });
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      }
      if (!pre.textContent) pre.textContent = "(empty)";
    } catch (error) {
      if (error.name !== "AbortError") pre.textContent += `\n(${error.message})`;
    }
  }

  const demoActions = (demo) => {
    const id = demo.id;
    const buttons = [el("button", { className: "secondary", "data-action": "logs", onclick: () => showLog(`Container log of ${id}`, `/api/demos/${id}/logs?lines=300`) }, "Logs")];
    // A gated demo's share link: shown once, here, with a Copy button; the row lists it with its time left.
    if (demo.access && demo.access !== "public" && demo.status !== "queued") {
      buttons.push(el("button", { "data-action": "share", onclick: () => act(`Share ${id}`, "Make a link that opens this demo without signing in, until its end (1m to 30d).", textField("Lasts", "3d", "1h, 3d"), (ttl) => api("POST", `/api/demos/${id}/shares`, { ttl }), (ttl, share) => ({ text: `Share link for ${id}, for ${ttl}:`, copy: share.url })) }, "Share"));
    }
    // A shared demo has no time box, and stopping it only starts it again: its row in Shared demos has Reset.
    if (demo.kind === "shared") return buttons;
    if (demo.status === "ready" || demo.status === "starting") {
      buttons.push(el("button", { "data-action": "extend", onclick: () => act(`Extend ${id}`, "Add time to this demo's lease.", textField("By", "10m", "10m, 1h"), (by) => api("POST", `/api/demos/${id}/extend`, { by }), (by) => `Extended ${id} by ${by}.`) }, "Extend"));
    }
    if (demo.status === "ready") {
      buttons.push(el("button", { "data-action": "replace", onclick: () => act(`Replace ${id}`, "Start a new instance, move the route to it, then retire the old one (no request is lost). Leave the image empty to keep the app's image.", textField("Image", "", "(the app's image)"), (image) => api("POST", `/api/demos/${id}/replace`, image ? { image } : {}), () => `Replacement of ${id} started.`) }, "Replace"));
      const sources = (state.apps[demo.app] || {}).sources || [];
      if (demo.rewindable && sources.length) buttons.push(el("button", { "data-action": "rewind", onclick: () => act(`Rewind ${id}`, "Bring the app's data back to a saved state; the visitor's changes are lost.", selectField("State", sources), (source) => api("POST", `/api/demos/${id}/rewind`, { source }), (source) => `Rewind of ${id} to ${source} started.`) }, "Rewind"));
    }
    buttons.push(el("button", { className: "danger", "data-action": "stop", onclick: () => act(`Stop ${id}`, `Stop ${demo.host} now? Its containers and data are removed.`, null, () => api("DELETE", `/api/demos/${id}`), () => `Stopped ${id}.`) }, "Stop"));
    return buttons;
  };

  const ACTIVE_BUILD = new Set(["queued", "fetching", "building", "starting"]);
  const buildActions = (build) => {
    const buttons = [el("button", { className: "secondary", "data-action": "log", onclick: () => showLog(`Build ${build.id} (${build.source} ${build.branch || build.commit || ""})`, `/api/builds/${build.id}/log?follow=1`) }, "Log")];
    if (ACTIVE_BUILD.has(build.state)) buttons.push(el("button", { className: "danger", "data-action": "cancel", onclick: () => act(`Cancel build ${build.id}`, "Stop this build? What it built so far is thrown away.", null, () => api("DELETE", `/api/builds/${build.id}`), () => `Cancelled build ${build.id}.`) }, "Cancel"));
    else buttons.push(el("button", { "data-action": "rebuild", onclick: () => act(`Rebuild ${build.branch || build.commit}`, `Build ${build.source} ${build.branch ? `branch ${build.branch}` : `commit ${build.commit}`} again?`, null, () => api("POST", "/api/builds", build.branch ? { source: build.source, branch: build.branch } : { source: build.source, commit: build.commit }), () => `Rebuild of ${build.branch || build.commit} queued.`) }, "Rebuild"));
    return buttons;
  };

  // ---- tables --------------------------------------------------------------------------------------
  /** Rows are kept by key while their data is unchanged, so focus and selection survive live updates. */
  function renderTable(name, columns, rows, key, emptyText) {
    const holder = document.querySelector(`[data-table="${name}"]`);
    const count = document.querySelector(`[data-count="${name}"]`);
    if (count) count.textContent = `(${rows.length})`;
    let table = tables[name];
    if (!table) {
      const body = el("tbody");
      table = tables[name] = { rows: new Map(), body, node: el("table", {}, el("thead", {}, el("tr", {}, columns.map((column) => el("th", { scope: "col" }, column.label)))), body), empty: el("p", { className: "empty" }, emptyText) };
    }
    if (rows.length === 0) {
      holder.replaceChildren(table.empty);
      table.rows.clear();
      table.body.replaceChildren();
      return;
    }
    if (holder.firstChild !== table.node) holder.replaceChildren(table.node);
    const focused = document.activeElement;
    const next = new Map();
    const ordered = rows.map((row) => {
      const id = key(row);
      const json = JSON.stringify(row);
      const old = table.rows.get(id);
      if (old && old.json === json) return next.set(id, old).get(id).tr;
      const tr = el("tr", { "data-key": id }, columns.map((column) => el("td", { "data-label": column.label, className: column.className }, column.value(row))));
      // A changed row keeps the keyboard where it was: the same action in the new row takes the focus.
      if (old && old.tr.contains(focused) && focused.dataset.action) setTimeout(() => { const same = tr.querySelector(`[data-action="${focused.dataset.action}"]`); if (same) same.focus(); });
      next.set(id, { json, tr });
      return tr;
    });
    table.rows = next;
    table.body.replaceChildren(...ordered);
  }

  function render() {
    if (!state) return;
    const health = document.querySelector("[data-health]");
    const h = state.health;
    const routesOk = h.routes.served === h.routes.written;
    health.replaceChildren(
      el("li", {}, "Docker: ", badge(h.docker.state), h.docker.since ? el("span", { className: "sub" }, `since ${since(h.docker.since)}`) : null),
      el("li", {}, "Watcher: ", badge(h.watcher.state), h.watcher.lastError ? el("span", { className: "sub" }, `last error (${h.watcher.lastError.kind}, ${since(h.watcher.lastError.at)}): ${h.watcher.lastError.message}`) : null),
      h.tls ? el("li", { "data-tls": h.tls.ok === true ? "ok" : h.tls.ok === false ? "error" : "warn" }, "HTTPS: ", badge(h.tls.ok === true ? "ok" : h.tls.ok === false ? "error" : "warning"), el("span", { className: "sub" }, h.tls.detail)) : null,
      el("li", {}, "Routes: ", badge(routesOk ? "ok" : "starting"), el("span", { className: "sub" }, `nginx serves generation ${h.routes.served === null ? "unknown" : h.routes.served}, written ${h.routes.written}`)),
      el("li", {}, `Demos: ${state.demos.filter((demo) => demo.kind === "visitor").length} of ${h.limits.maxDemos} visitor slots`, el("span", { className: "sub" }, `${state.queue.length} of ${h.limits.queueLength} places in line taken`)),
    );
    const needle = filterInput.value.trim().toLowerCase();
    const demos = state.demos.filter((demo) => !needle || [demo.id, demo.app, demo.kind, demo.owner, demo.status, demo.host].some((field) => field && String(field).toLowerCase().includes(needle)));
    renderTable("demos", [
      { label: "Demo", value: (demo) => [el("a", { href: demo.url, target: "_blank", rel: "noopener" }, demo.host), el("span", { className: "sub" }, demo.id)] },
      // A gated demo says who may open it and lists its live share links here (a public one adds nothing).
      { label: "Kind", value: (demo) => [demo.kind, demo.pooled ? el("span", { className: "sub" }, "warm pool") : null, demo.access && demo.access !== "public" ? el("span", { className: "sub", "data-access": demo.access }, `access: ${demo.access}`) : null, ...(demo.shares || []).map((share) => el("span", { className: "sub", "data-share": share.id }, `link ${share.note || share.id.slice(0, 6)}, `, el("span", { "data-expires": share.expiresAt }, left(share.expiresAt)), " ", el("button", { className: "secondary", "data-action": `revoke-${share.id}`, onclick: () => act(`Revoke link ${share.id}`, `End this link of ${demo.id} now? Everyone who opened the demo with it is refused from their next request.`, null, () => api("DELETE", `/api/demos/${demo.id}/shares/${share.id}`), () => `Revoked link ${share.id} of ${demo.id}.`) }, "Revoke")))] },
      { label: "App", value: (demo) => demo.app },
      { label: "Owner", value: (demo) => demo.owner || "—" },
      { label: "Status", value: (demo) => [badge(demo.status), demo.status === "starting" ? el("span", { className: "sub" }, demo.step) : null, demo.replacement ? el("span", { className: "sub" }, `replacement ${demo.replacement.status}${demo.replacement.reason ? `: ${demo.replacement.reason}` : ""}`) : null, demo.reason ? el("span", { className: "sub" }, demo.reason) : null] },
      { label: "Time left", value: (demo) => (demo.kind === "shared" ? "kept (shared)" : el("span", { "data-expires": demo.expiresAt }, left(demo.expiresAt))) },
      { label: "Instances", value: (demo) => [...demo.instances.map((instance) => el("span", { className: "sub" }, `#${instance.generation} `, badge(instance.health), instance.endpoint ? ` ${instance.endpoint}` : "")), ...(demo.services || []).map((service) => el("span", { className: "sub", "data-service": service.service }, `${service.service}${service.routed ? " (routed)" : ""} `, badge(service.health || service.state)))] },
      { label: "Actions", className: "actions", value: demoActions },
    ], demos, (demo) => demo.id, needle ? "No demo matches the filter." : "No demo is running.");
    renderTable("queue", [
      { label: "Place", value: (entry) => String(entry.position) },
      { label: "Demo", value: (entry) => entry.id },
      { label: "App", value: (entry) => entry.app },
      { label: "Owner", value: (entry) => entry.owner || "—" },
      { label: "Waiting since", value: (entry) => since(entry.since) },
      { label: "Actions", className: "actions", value: (entry) => el("button", { className: "danger", "data-action": "stop", onclick: () => act(`Remove ${entry.id} from the line`, "The visitor's page says the demo was stopped.", null, () => api("DELETE", `/api/demos/${entry.id}`), () => `Removed ${entry.id} from the line.`) }, "Remove") },
    ], state.queue, (entry) => entry.id, "Nobody is waiting.");
    renderTable("pools", [
      { label: "Warm pool", value: (pool) => pool.app },
      { label: "Size", value: (pool) => String(pool.size) },
      { label: "Ready", value: (pool) => String(pool.ready) },
      { label: "Starting", value: (pool) => String(pool.starting) },
      { label: "Created ahead", value: (pool) => (pool.preparedSize > 0 ? `${pool.prepared} of ${pool.preparedSize}` : "—") },
    ], state.pools.filter((pool) => pool.size > 0 || pool.ready > 0 || pool.starting > 0 || pool.preparedSize > 0), (pool) => pool.app, "No app keeps a warm pool or containers created ahead.");
    renderTable("builds", [
      { label: "Build", value: (build) => [build.id, el("span", { className: "sub" }, since(build.createdAt))] },
      { label: "Source", value: (build) => [build.source, el("span", { className: "sub" }, build.branch ? `branch ${build.branch}` : `commit ${String(build.commit).slice(0, 12)}`)] },
      { label: "Commit", value: (build) => (build.commit ? String(build.commit).slice(0, 12) : "—") },
      { label: "State", value: (build) => [badge(build.state), build.reason ? el("span", { className: "sub" }, build.reason) : null, build.note ? el("span", { className: "sub" }, build.note) : null] },
      { label: "Serves", value: (build) => (build.url ? el("a", { href: build.url, target: "_blank", rel: "noopener" }, new URL(build.url).hostname) : "—") },
      { label: "Actions", className: "actions", value: buildActions },
    ], state.builds, (build) => build.id, "No builds yet.");
    renderTable("previews", [
      { label: "Preview", value: (preview) => el("a", { href: preview.url, target: "_blank", rel: "noopener" }, preview.host) },
      { label: "Source", value: (preview) => [preview.source || "—", preview.branch ? el("span", { className: "sub" }, `branch ${preview.branch}`) : null] },
      { label: "Pull request", value: (preview) => (preview.pr ? `${preview.repo || ""} #${preview.pr}` : "—") },
      { label: "Commit", value: (preview) => (preview.commit ? String(preview.commit).slice(0, 12) : "—") },
      { label: "Status", value: (preview) => badge(preview.status) },
      { label: "Actions", className: "actions", value: (preview) => el("button", { className: "danger", "data-action": "remove", onclick: () => act(`Remove ${preview.host}`, "Remove this preview, its containers and its image? Its address builds it again on the next visit.", null, () => api("DELETE", `/api/previews/${preview.host}`), () => `Removed ${preview.host}.`) }, "Remove") },
    ], state.previews, (preview) => preview.id, "No previews.");
    renderTable("shared", [
      { label: "Shared demo", value: (shared) => (shared.url ? el("a", { href: shared.url, target: "_blank", rel: "noopener" }, shared.host) : shared.name) },
      { label: "App", value: (shared) => shared.app },
      { label: "Status", value: (shared) => [badge(shared.status), el("span", { className: "sub" }, `${shared.instances.length} of ${shared.replicas} replicas`)] },
      { label: "Next reset", value: (shared) => (shared.nextResetAt ? [since(shared.nextResetAt), el("span", { className: "sub" }, `${shared.schedule} (${shared.timeZone})`)] : "on request only") },
      { label: "Last reset", value: (shared) => (shared.lastReset ? [badge(shared.lastReset.status), el("span", { className: "sub" }, `${shared.lastReset.trigger}, ${since(shared.lastReset.startedAt)}${shared.lastReset.reason ? `: ${shared.lastReset.reason}` : ""}`)] : "—") },
      { label: "Actions", className: "actions", value: (shared) => el("button", { "data-action": "reset", onclick: () => act(`Reset ${shared.name}`, "Start fresh replicas from the known state and switch to them (no request is lost).", null, () => api("POST", `/api/shared/${shared.name}/reset`), () => `Reset of ${shared.name} started.`) }, "Reset") },
    ], state.shared, (shared) => shared.name, "No shared demos are configured.");
    renderTable("deliveries", [
      { label: "Received", value: (delivery) => since(delivery.receivedAt) },
      { label: "Event", value: (delivery) => [delivery.event, el("span", { className: "sub" }, delivery.id)] },
      { label: "Repository", value: (delivery) => [delivery.repo || "—", delivery.pr ? el("span", { className: "sub" }, `#${delivery.pr}`) : null] },
      { label: "Outcome", value: (delivery) => [badge(delivery.outcome), delivery.reason ? el("span", { className: "sub" }, delivery.reason) : null] },
      { label: "Build", value: (delivery) => delivery.build || "—" },
    ], state.deliveries, (delivery) => delivery.id, "No webhook deliveries.");
  }

  filterInput.addEventListener("input", render);
  setInterval(() => {
    for (const cell of document.querySelectorAll("[data-expires]")) cell.textContent = left(cell.dataset.expires);
  }, 1000);

  // ---- live updates --------------------------------------------------------------------------------
  function accept(message) {
    offset = message.now - Date.now();
    state = message.state;
    render();
  }

  function connect() {
    const source = new EventSource("/__admin/events");
    source.addEventListener("open", () => {
      connection.textContent = "Live";
      connection.className = "connection live";
    });
    source.addEventListener("state", (event) => accept(JSON.parse(event.data)));
    source.addEventListener("signed-out", () => {
      source.close();
      signInAgain();
    });
    source.addEventListener("error", async () => {
      if (leaving) return;
      connection.textContent = "Reconnecting…";
      connection.className = "connection down";
      // EventSource gives up on an answer that is not 200: find out whether the session ended.
      const answer = await fetch("/__admin/state", { credentials: "same-origin" }).catch(() => null);
      if (answer && (answer.status === 401 || answer.status === 403)) signInAgain();
      else if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    });
  }
  connect();
})();
