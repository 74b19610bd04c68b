// The files we ship for production: the nginx site passes `nginx -t`, the example config parses.
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { prepareEnvironments } from "../../src/app/environments.js";
import { loadConfig } from "../../src/config/load.js";
import { findNginx } from "../../src/nginx/private-nginx.js";
import { PACKAGE_ROOT, RoutesRenderer } from "../../src/nginx/render.js";

describe("shipped production files", () => {
  it("nginx/site.conf with the routes file passes nginx -t (real nginx)", async () => {
    const nginx = await findNginx();
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-site-"));
    await mkdir(path.join(dir, "demo-launcher"));
    for (const file of ["locations.conf", "proxy.conf"]) await writeFile(path.join(dir, "demo-launcher", file), await readFile(path.join(PACKAGE_ROOT, "nginx", file), "utf8"));
    await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=demo.example.org", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")]);
    // With a preview (its requests logged for idle stop) beside the operator's own access log, as on Debian.
    // The certificate is the one routes.conf names (the controller's tls:), with HSTS on.
    const renderer = new RoutesRenderer(undefined, { seenLog: path.join(dir, "seen.log"), tls: () => ({ certificate: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem"), hstsSeconds: 31_536_000 }) });
    const routes = renderer.render({ generation: 1, controller: { host: "127.0.0.1", port: 8081 }, routes: [{ id: "abcd1234", host: "abcd1234.demo.example.org", backends: ["127.0.0.1:20001"] }, { id: "shared01", host: "shared01.demo.example.org", backends: ["127.0.0.1:20002", "127.0.0.1:20003"] }, { id: "web-main", host: "web-main.demo.example.org", backends: ["127.0.0.1:20004"], watched: true }] });
    expect(renderer.writesSeenLog).toBe(true);
    expect(routes).toMatch(/web-main\.demo\.example\.org 1;/);
    await writeFile(path.join(dir, "routes.conf"), routes);
    const site = (await readFile(path.join(PACKAGE_ROOT, "nginx/site.conf"), "utf8"))
      .replaceAll("/var/lib/demo-launcher/nginx/routes.conf", path.join(dir, "routes.conf"))
      .replace("/var/lib/nginx/demo-launcher-auth", path.join(dir, "auth-cache"))
      .replace(/listen (\[::\]:)?(80|443)/g, (_match, v6, port) => `listen ${v6 ? "[::1]:" : "127.0.0.1:"}${port === "80" ? 18080 : 18443}`);
    await writeFile(path.join(dir, "site.conf"), site);
    await writeFile(
      path.join(dir, "nginx.conf"),
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log ${dir}/access.log;\n  client_body_temp_path ${dir}/t1; proxy_temp_path ${dir}/t2; fastcgi_temp_path ${dir}/t3; uwsgi_temp_path ${dir}/t4; scgi_temp_path ${dir}/t5;\n  include ${dir}/site.conf;\n}\n`,
    );
    const result = await execa(nginx, ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf")], { reject: false, all: true });
    expect(result.all).toBe("");
    expect(result.exitCode).toBe(0);
  });

  it("the site sets timeouts, a body limit, security headers, and refuses names it does not serve", async () => {
    const site = await readFile(path.join(PACKAGE_ROOT, "nginx/site.conf"), "utf8");
    const demoServer = site.slice(site.lastIndexOf("server {"));
    for (const directive of [/client_max_body_size \d+m;/, /client_header_timeout \d+s;/, /client_body_timeout \d+s;/, /send_timeout \d+s;/, /keepalive_timeout \d+s;/, /server_tokens off;/, /add_header Strict-Transport-Security \$demo_launcher_hsts always;/, /ssl_protocols TLSv1\.2 TLSv1\.3;/]) {
      expect(demoServer).toMatch(directive);
    }
    // Plain HTTP redirects, but for ACME's HTTP-01 checks and the routes probe.
    const plainServer = site.slice(site.indexOf("server {\n    listen 80;"), site.lastIndexOf("server {"));
    expect(plainServer).toMatch(/location \^~ \/\.well-known\/acme-challenge\/ \{ proxy_pass http:\/\/demo_launcher_controller;/);
    expect(plainServer).toMatch(/location = \/__demo\/generation \{/);
    expect(plainServer).toMatch(/location \/ \{ return 308 https:\/\/\$host\$request_uri; \}/);
    const defaultServer = site.slice(site.indexOf("server {"), site.indexOf("}", site.indexOf("server {")));
    expect(defaultServer).toMatch(/listen 443 ssl http2 default_server;/);
    expect(defaultServer).toMatch(/ssl_reject_handshake on;/);
    expect(defaultServer).toMatch(/return 421 /);
    // nginx's own refusals answer in problem+json, in the server and in the three proxied locations alike (a gated host's too).
    const locations = await readFile(path.join(PACKAGE_ROOT, "nginx/locations.conf"), "utf8");
    expect(locations.match(/error_page 413 \/__demo_launcher_error\/413;/g)).toHaveLength(4);
    // GitHub deliveries may be up to 25 MB; everything else keeps the 10 MB limit.
    expect(locations).toMatch(/location = \/hooks\/github \{\n    client_max_body_size 25m;/);
  });

  it("examples/config.production.yaml is a valid configuration", async () => {
    const config = await loadConfig(path.join(PACKAGE_ROOT, "examples/config.production.yaml"), {});
    expect(config.domain).toBe("demo.example.org");
    expect(config.nginx.configDir).toBe("/var/lib/demo-launcher/nginx");
  });

  it("examples/compose-app/config.yaml is a valid configuration: the task board as visitors' demos, a preview source and a shared demo", async () => {
    const config = await prepareEnvironments(await loadConfig(path.join(PACKAGE_ROOT, "examples/compose-app/config.yaml"), {}));
    expect(config.apps.tasks).toMatchObject({ port: 8000, serviceImages: { web: "demo-launcher-example/compose-app:latest", worker: "demo-launcher-example/compose-app:latest", db: "demo-launcher-example/compose-db:latest", cache: "demo-launcher-example/compose-cache:latest" } });
    expect(config.previews.tasks).toMatchObject({ compose: "examples/compose-app/compose.yaml", repo: PACKAGE_ROOT });
    expect(config.shared["try-tasks"]).toMatchObject({ app: "tasks", replicas: 1 });
  });
});
