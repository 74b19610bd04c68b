// The HTTPS config (tls:) and what routes.conf says of it: each way read with its defaults and paths, every mistake
// named by key; the pair's files and HSTS in the routes file, an unsafe path refused; the URLs handed to visitors.
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { publicOrigin } from "../../src/http/context.js";
import { RoutesRenderer } from "../../src/nginx/render.js";
import { routesFor } from "../../src/core/routing/routes.js";
import { branchLabel } from "../../src/core/previews/preview-names.js";
import { ownHostsOf } from "../../src/config/own-hosts.js";
import { problemsOf } from "../support/config-problems.js";

const ACME = `tls:
  acme:
    email: ops@example.org
    dns: { provider: rfc2136, server: "ns1.example.org:5353", keyName: acme, keySecretFile: secrets/tsig }`;

describe("tls config", () => {
  it("reads an ACME order by RFC 2136 with its defaults, paths from the file's folder, and https URLs on 443", () => {
    const config = parseConfigText(`domain: demo.example.org\n${ACME}\n`, "/etc/demo-launcher/config.yaml", "/etc/demo-launcher");
    expect(config.tls?.acme).toMatchObject({ directory: "https://acme-v02.api.letsencrypt.org/directory", renewBefore: 30 * 86_400_000, email: "ops@example.org", dns: { provider: "rfc2136", server: "ns1.example.org:5353", keyName: "acme", keyAlgorithm: "hmac-sha256", keySecretFile: "/etc/demo-launcher/secrets/tsig", ttl: 60, propagationTimeout: 120_000 } });
    expect(config.tls?.hsts).toBe(false);
    expect(config.publicScheme).toBe("https");
    expect(publicOrigin(config, "k3x9q2ab.demo.example.org")).toBe("https://k3x9q2ab.demo.example.org");
  });

  it("reads the exec provider's command as a line or a list, the operator's files, and the local CA", () => {
    const line = parseConfigText(`tls:\n  acme:\n    dns: { provider: exec, command: "/usr/local/bin/dns-hook --zone example.org" }\n`, "c.yaml", "/srv");
    expect(line.tls?.acme?.dns).toMatchObject({ provider: "exec", command: ["/usr/local/bin/dns-hook", "--zone", "example.org"] });
    const list = parseConfigText(`tls:\n  acme:\n    dns: { provider: exec, command: [hook, "two words"], nameservers: ["192.0.2.53", "[2001:db8::53]:53"] }\n`, "c.yaml", "/srv");
    expect(list.tls?.acme?.dns).toMatchObject({ command: ["hook", "two words"], nameservers: ["192.0.2.53", "[2001:db8::53]:53"] });
    const files = parseConfigText(`tls: { certificate: live/fullchain.pem, key: /etc/ssl/private/demo.key, hsts: 365d }\n`, "c.yaml", "/srv");
    expect(files.tls).toMatchObject({ certificate: "/srv/live/fullchain.pem", key: "/etc/ssl/private/demo.key", hsts: 365 * 86_400_000 });
    const local = parseConfigText(`tls: { local: true }\nnginx: { listenTls: "127.0.0.1:9443" }\n`, "c.yaml", "/srv");
    expect(local.tls?.local).toBe(true);
    expect(publicOrigin(local, "demo.localhost")).toBe("https://demo.localhost:9443");
    // Said outright, the scheme stays as given.
    expect(parseConfigText(`publicScheme: http\ntls: { local: true }\n`, "c.yaml", "/srv").publicScheme).toBe("http");
    expect(parseConfigText("", "c.yaml", "/srv").publicScheme).toBe("http");
  });

  it("names every mistake by key, value and what is allowed", () => {
    const oneWay = "must have exactly one of: certificate and key (your own files), acme (ordered by DNS-01), local: true (a local CA)";
    expect(problemsOf(`tls: { certificate: a.pem, acme: { dns: { provider: exec, command: x } } }\n`)).toEqual([`tls: {"certificate":"a.pem","acme":{"dns":{"provider":"exec","... is wrong: ${oneWay}`]);
    expect(problemsOf(`tls: {}\n`)).toEqual([`tls: {} is wrong: ${oneWay}`]);
    expect(problemsOf(`tls: { certificate: a.pem }\n`)).toEqual(["tls.key: is missing; it must be given with the other: certificate and key form a pair"]);
    expect(problemsOf(`tls: { acme: { directory: "http://ca.example.org/dir", dns: { provider: route53 } } }\n`)).toEqual([
      'tls.acme.directory: "http://ca.example.org/dir" is wrong: must be an https URL (ACME servers answer over HTTPS)',
      'tls.acme.dns.provider: "route53" is wrong: must be a map whose provider is one of: rfc2136, exec',
    ]);
    expect(problemsOf(`tls: { acme: { dns: { provider: rfc2136, server: "ns1.example.org", keyName: acme, keySecret: "c2VjcmV0", keyAlgorithm: md5 } } }\n`)).toEqual([
      'tls.acme.dns.keyAlgorithm: "md5" is wrong: must be one of: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1',
    ]);
    expect(problemsOf(`tls: { acme: { dns: { provider: rfc2136, server: "ns1.example.org", keyName: acme, keySecret: "c2VjcmV0", keySecretFile: f } } }\n`)).toEqual(['tls.acme.dns: {"provider":"rfc2136","server":"ns1.example.org","keyName... is wrong: must have exactly one of keySecret and keySecretFile']);
    expect(problemsOf(`tls: { acme: { renewBefore: soon, dns: { provider: exec, command: [] } }, hsts: yes }\n`)).toEqual([
      "tls.acme.dns.command: [] is wrong: must name a program",
      'tls.acme.renewBefore: "soon" is wrong: must be a number followed by ms, s, m, h or d (for example 90s, 10m, 1h)',
      'tls.hsts: "yes" is wrong: must be false or a duration such as 365d',
    ]);
  });
});

describe("a shared demo's own names (shared.<name>.hosts)", () => {
  it("are read lowercased, and refused under the domain, twice, as the console's host, or on a gated demo", () => {
    const config = parseConfigText(`shared:\n  shop: { app: hello, hosts: [Shop.Example.ORG, shop.example.net] }\n`, "c.yaml", "/srv");
    expect(config.shared.shop!.hosts).toEqual(["shop.example.org", "shop.example.net"]);
    expect(problemsOf(`admin: { host: ops.example.org }\nshared:\n  shop: { app: hello, hosts: [x.demo.localhost, ops.example.org, localhost] }\n  blog: { app: hello, hosts: [shop.example.org] }\n  news: { app: hello, hosts: [shop.example.org], access: password }\n`)).toEqual(expect.arrayContaining([
      `shared.shop.hosts.0: "x.demo.localhost" is wrong: must be outside demo.localhost: names under it are demos' hosts (this one is shop.demo.localhost)`,
      'shared.shop.hosts.1: "ops.example.org" is the console\'s host (admin.host)',
      'shared.shop.hosts.2: "localhost" is wrong: must be a DNS name with a dot, such as shop.example.org',
      `shared.news.hosts.0: "shop.example.org" is wrong: must not be given while the demo's access is password: names of its own serve public demos only (sign-in and its cookies belong to demo.localhost)`,
      'shared.news.hosts.0: "shop.example.org" is already a name of shared demo blog',
    ]));
    // A branch's preview too; a repository's pull requests have no such names.
    expect(problemsOf(`shared:\n  shop: { app: hello, hosts: [shop.example.org] }\npreviews:\n  web: { repo: /srv/web.git, port: 8080, hosts: { main: shop.example.org, dev: dev.demo.localhost } }\n`)).toEqual([
      'previews.web.hosts.main: "shop.example.org" is already a name of shared demo shop',
      `previews.web.hosts.dev: "dev.demo.localhost" is wrong: must be outside demo.localhost: names under it are demos' hosts (this one is web-dev.demo.localhost)`,
    ]);
    expect(problemsOf(`github:\n  webhookSecrets: [0123456789abcdef]\n  repos:\n    acme/shop: { port: 8080, hosts: { main: shop.example.org } }\n`)).toEqual([expect.stringMatching(/^github\.repos\.acme\/shop\.hosts: unknown key/)]);
  });

  it("are routed to the shared demo's instances, with its gate; other demos have none", () => {
    const demo = { id: "shop", kind: "shared", app: "hello", host: "shop.demo.example.org", createdAt: 0, expiresAt: Number.MAX_SAFE_INTEGER, status: "ready", step: "done", instances: [{ id: "i1", generation: 1, containerId: "c1", endpoint: "127.0.0.1:20001", health: "healthy" }] } as never;
    const routes = routesFor([demo], 1, () => false, () => false, () => undefined, () => ["shop.example.org"]);
    expect(routes.map((route) => [route.id, route.host, route.backends])).toEqual([["shop", "shop.demo.example.org", ["127.0.0.1:20001"]], ["shop-host1", "shop.example.org", ["127.0.0.1:20001"]]]);
    const config = { shared: { shop: { hosts: ["shop.example.org"] } }, previews: { web: { hosts: { main: "staging.example.org", "feature/Login": "login.example.org" } } } } as never;
    expect(ownHostsOf(config, { kind: "visitor", id: "shop", app: "hello" })).toEqual([]);
    expect(ownHostsOf(config, { kind: "shared", id: "shop", app: "hello" })).toEqual(["shop.example.org"]);
    // A branch's preview by its label: the branch's name as a DNS label (with a hash when that loses anything).
    expect(ownHostsOf(config, { kind: "preview", id: "web-main", app: "web" })).toEqual(["staging.example.org"]);
    expect(ownHostsOf(config, { kind: "preview", id: branchLabel("web", "feature/Login"), app: "web" })).toEqual(["login.example.org"]);
    expect(ownHostsOf(config, { kind: "preview", id: "web-commit-abc1234", app: "web" })).toEqual([]);
  });
});

describe("routes.conf and HTTPS", () => {
  const controller = { host: "127.0.0.1", port: 8081 };

  it("names the installed pair at the http level, and HSTS for HTTPS answers only", () => {
    const text = new RoutesRenderer(undefined, { tls: () => ({ certificate: "/var/lib/demo-launcher/nginx/tls/0123456789abcdef/fullchain.pem", key: "/var/lib/demo-launcher/nginx/tls/0123456789abcdef/privkey.pem", hstsSeconds: 31_536_000 }) }).render({ generation: 3, controller, routes: [] });
    expect(text).toContain("ssl_certificate /var/lib/demo-launcher/nginx/tls/0123456789abcdef/fullchain.pem;\nssl_certificate_key /var/lib/demo-launcher/nginx/tls/0123456789abcdef/privkey.pem;\n");
    expect(text).toContain('map $scheme $demo_launcher_hsts {\n    default "";\n    https "max-age=31536000";\n}');
  });

  it("without tls: no certificate, and an HSTS variable that adds no header (the site file may name it)", () => {
    const text = new RoutesRenderer().render({ generation: 1, controller, routes: [] });
    expect(text).not.toContain("ssl_certificate");
    expect(text).toContain('map $scheme $demo_launcher_hsts {\n    default "";\n}');
  });

  it("gives a demo's own name servers of its own: HTTPS with its pair and plain HTTP redirected, or plain HTTP until it has one", () => {
    const pair = { certificate: "/srv/tls/aaaaaaaaaaaaaaaa/fullchain.pem", key: "/srv/tls/aaaaaaaaaaaaaaaa/privkey.pem" };
    const text = new RoutesRenderer(undefined, { tls: () => ({ ...pair, listen: { plain: ["80", "[::]:80"], tls: ["443", "[::]:443"], redirectPort: "" }, hosts: [{ host: "shop.example.org", certificate: "/srv/tls-hosts/shop.example.org/bbbbbbbbbbbbbbbb/fullchain.pem", key: "/srv/tls-hosts/shop.example.org/bbbbbbbbbbbbbbbb/privkey.pem" }, { host: "blog.example.org" }] }) }).render({ generation: 1, controller, routes: [] });
    expect(text).toContain("server {\n    listen 80;\n    listen [::]:80;\n    server_name shop.example.org;\n    server_tokens off;\n    location ^~ /.well-known/acme-challenge/ {\n        proxy_pass http://demo_launcher_controller;\n        include demo-launcher/proxy.conf;\n    }\n    location / {\n        return 308 https://$host$request_uri;\n    }\n}");
    expect(text).toContain("server {\n    listen 443 ssl;\n    listen [::]:443 ssl;\n    server_name shop.example.org;\n    server_tokens off;\n    ssl_certificate /srv/tls-hosts/shop.example.org/bbbbbbbbbbbbbbbb/fullchain.pem;");
    expect(text).toContain("    server_name blog.example.org;\n    server_tokens off;\n    location ^~ /.well-known/acme-challenge/ {\n        proxy_pass http://demo_launcher_controller;\n        include demo-launcher/proxy.conf;\n    }\n    include demo-launcher/locations.conf;\n}");
    expect(text.match(/server_name blog\.example\.org;/g)).toHaveLength(1);
    const unsafe = new RoutesRenderer(undefined, { tls: () => ({ ...pair, listen: { plain: ["80; include /etc/shadow"], tls: ["443"], redirectPort: "" }, hosts: [{ host: "shop.example.org" }] }) });
    expect(() => unsafe.render({ generation: 1, controller, routes: [] })).toThrow('refusing the listen address "80; include /etc/shadow"');
  });

  it("refuses a certificate path nginx would read as more than a path", () => {
    const renderer = new RoutesRenderer(undefined, { tls: () => ({ certificate: "/srv/a.pem; include /etc/shadow", key: "/srv/a.key" }) });
    expect(() => renderer.render({ generation: 1, controller, routes: [] })).toThrow('refusing the certificate path "/srv/a.pem; include /etc/shadow"');
  });
});
