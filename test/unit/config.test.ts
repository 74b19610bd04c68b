// Unit tests of the config parser: defaults, and every problem named with key, value and what is allowed.
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";
import { problemsOf } from "../support/config-problems.js";

describe("config", () => {
  it("gives the embedded default set-up from an empty file", () => {
    const config = parseConfigText("", "test.yaml", "/srv");
    expect(config.domain).toBe("demo.localhost");
    expect(config.listen).toEqual({ host: "127.0.0.1", port: 8081 });
    expect(config.nginx.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.nginx.configDir).toBe("/srv/.run/nginx");
    expect(config.nginx.probeUrl).toBe("http://127.0.0.1:8080");
    expect(config.ports).toEqual({ from: 20000, to: 29999 });
    expect(config.limits).toEqual({ maxDemos: 50, perClient: 1, queueLength: 20, launchesPerClient: 10, launchWindow: 600_000, minFreeDisk: "default", perNetwork: { demos: 4, launches: 20, ipv4: 24, ipv6: 64 } });
    expect(config.brand.title).toBe("Try it live");
    expect(config.allowedOrigins).toEqual([]);
    expect(config.apps.hello).toMatchObject({ image: "demo-launcher/hello:latest", port: 8080, ttl: 600_000, memory: 256 * 1024 * 1024, cpus: 0.5, pids: 256, readiness: { path: "/", timeout: 60_000 } });
  });

  it("reads the issue's example file", () => {
    const config = parseConfigText(
      `domain: demo.localhost
listen: 127.0.0.1:8081
nginx:
  listen: 127.0.0.1:8080
  configDir: .run/nginx
ports: { from: 20000, to: 29999 }
limits: { maxDemos: 50, perClient: 1 }
apps:
  hello:
    image: demo-launcher/hello:latest
    port: 8080
    ttl: 90s
    memory: 256m
    cpus: 0.5
    pids: 256
    env: { GREETING: hi, COUNT: 3 }
    readiness: { path: /, timeout: 60s }
`,
      "test.yaml",
      "/srv",
    );
    expect(config.apps.hello!.ttl).toBe(90_000);
    expect(config.apps.hello!.env).toEqual({ GREETING: "hi", COUNT: "3" });
  });

  it("takes an app made of a Compose file instead of an image, and refuses what does not go with one", () => {
    const config = parseConfigText("apps:\n  shop: { compose: shop/compose.yaml, route: { service: web, port: 3000 }, profiles: [debug] }\n", "/srv/config.yaml", "/srv");
    expect(config.apps.shop).toMatchObject({ compose: "shop/compose.yaml", route: { service: "web", port: 3000 }, profiles: ["debug"], composeRoot: "/srv", image: "", port: 0 });
    expect(problemsOf("limits: { memory: 256m }\napps:\n  big: { image: app, port: 80, memory: 512m }\n")).toEqual(['apps.big.memory: "512m" is wrong: must be at most limits.memory (256 MB): a demo of it could never start']);
    expect(problemsOf("apps:\n  outside: { compose: ../elsewhere/compose.yaml }\n")).toEqual(['apps.outside.compose: "../elsewhere/compose.yaml" is wrong: must be a path inside the config\'s folder (no leading /, no ..)']);
    expect(problemsOf(`apps:
  both: { image: app, port: 80, compose: compose.yaml }
  neither: { title: nothing }
  routed: { image: app, port: 80, route: { service: web, port: 80 } }
  stateful: { compose: compose.yaml, state: { default: fixtures, sources: { fixtures: { driver: postgres, file: /opt/f.sql, database: d }, saved: { kind: snapshot } } } }
  single: { image: app, port: 80, state: { default: fixtures, sources: { fixtures: { service: db, driver: postgres, file: /opt/f.sql, database: d } } } }
shared:
  try-shop: { app: both }
`)).toEqual([      'apps.both.image: "app" is wrong: must be left out when the app names a compose file (the file says which images run)',
      "apps.both.port: 80 is wrong: must be left out when the app names a compose file (route: { service, port } says where nginx goes)",
      "apps.neither.image: is missing; it must be an image reference such as demo-launcher/hello:latest, or the app must name a compose file instead",
      "apps.neither.port: is missing; it must be the port the app listens on inside its container",
      'apps.routed.route: {"service":"web","port":80} is wrong: must be left out: it applies only to an app that names a compose file',
      "apps.stateful.state.sources.fixtures.service: is missing; it must name the service whose container runs the database (the app names a compose file)",
      'apps.stateful.state.sources.saved.kind: "snapshot" is wrong: must be dump for an app of several services (a snapshot saves one container; name the database\'s service and its dump)',
      'apps.single.state.sources.fixtures.service: "db" is wrong: must be left out: it applies only to an app that names a compose file (the demo is one container)',
    ]);
  });

  it("takes a Compose app on a swarm, refusing further routed services there (one routed service per environment)", () => {
    const config = parseConfigText("runtime: swarm\napps:\n  shop: { compose: shop/compose.yaml, route: { service: web, port: 3000 } }\n", "/srv/config.yaml", "/srv");
    expect(config.apps.shop).toMatchObject({ compose: "shop/compose.yaml" });
    expect(problemsOf("runtime: swarm\napps:\n  shop: { compose: c.yaml, route: { service: web, port: 80 }, routes: [{ service: api, port: 80, name: api }] }\npreviews:\n  site: { repo: /r.git, compose: c.yaml, route: { service: web, port: 80 }, routes: [{ service: api, port: 80, name: api }] }\n")).toEqual([
      'apps.shop.routes: [{"service":"api","port":80,"name":"api"}] is not available with runtime: swarm (an environment on a swarm has one routed service, route:)',
      'previews.site.routes: [{"service":"api","port":80,"name":"api"}] is not available with runtime: swarm (an environment on a swarm has one routed service, route:)',
    ]);
  });

  it("takes a preview source (or a repository) built from a Compose file, and refuses what does not go with one", () => {
    const config = parseConfigText("previews:\n  shop: { repo: /srv/shop.git, compose: compose.yaml, profiles: [review] }\n", "/srv/config.yaml", "/srv");
    expect(config.previews.shop).toMatchObject({ compose: "compose.yaml", profiles: ["review"] });
    expect(config.previews.shop!.dockerfile).toBeUndefined();
    expect(problemsOf(`previews:
  both: { repo: /r.git, compose: compose.yaml, dockerfile: Dockerfile, port: 80 }
  unnamed: { repo: /r.git, compose: compose.yaml, routes: [{ service: api, port: 80, name: api }] }
  twice: { repo: /r.git, compose: compose.yaml, route: { service: web, port: 80 }, routes: [{ service: api, port: 80, name: api }, { service: admin, port: 80, name: api }] }
  neither: { repo: /r.git }
  routed: { repo: /r.git, port: 80, route: { service: web, port: 80 } }
  outside: { repo: /r.git, compose: ../compose.yaml }
github:
  webhookSecrets: [0123456789abcdef]
  repos:
    acme/shop: { compose: compose.yaml, port: 80 }
`)).toEqual([
      'previews.outside.compose: "../compose.yaml" is wrong: must be the path of a Compose file inside the repository (no leading /, no ..)',
      'previews.both.dockerfile: "Dockerfile" is wrong: must be left out with compose (the file says what each service builds)',
      "previews.both.port: 80 is wrong: must be left out with compose (the file says what each service builds; route: { service, port } says where nginx goes)",
      "previews.unnamed.route: is missing; it must name the first routed service (the demo's own host) when routes: names further ones",
      'previews.twice.routes.1.name: "api" is wrong: must be unique: api is named twice (it becomes the host api-<id>.<domain>)',
      "previews.neither.port: is missing; it must be the port the app listens on inside its container (or the source must name a compose file instead)",
      'previews.routed.route: {"service":"web","port":80} is wrong: must be left out: it applies only to a source that names a compose file',
      "github.repos.acme/shop.port: 80 is wrong: must be left out with compose (the file says what each service builds; route: { service, port } says where nginx goes)",
    ]);
  });

  it("lists every problem at once, each naming key, value and what is allowed", () => {
    const problems = problemsOf(`domain: "not a domain"
listen: localhost
bogus: 1
ports: { from: 30000, to: 20000 }
limits: { maxDemos: 0 }
apps:
  hello:
    image: demo-launcher/hello:latest
    port: 70000
    ttl: 10 minutes
    colour: blue
`);
    expect(problems).toEqual([
      'domain: "not a domain" is wrong: must be a DNS name such as demo.example.org (lowercase letters, digits, dots and hyphens)',
      'listen: "localhost" is wrong: must be host:port with a port from 1 to 65535 (for example 127.0.0.1:8081)',
      'ports: {"from":30000,"to":20000} is wrong: from must not be greater than to',
      "limits.maxDemos: 0 is wrong: must be a whole number of demos, at least 1",
      "apps.hello.port: 70000 is wrong: must be from 1 to 65535",
      'apps.hello.ttl: "10 minutes" is wrong: must be a number followed by ms, s, m, h or d (for example 90s, 10m, 1h)',
      "apps.hello.colour: unknown key; allowed keys here: image, port, compose, route, routes, profiles, title, description, ttl, memory, cpus, pids, disk, capabilities, readOnly, tmpfs, nofile, egress, env, banner, pool, prepared, readiness, placement, access, state",
      "bogus: unknown key; allowed keys here: domain, listen, namespace, idLength, publicScheme, publicPort, stateDir, network, adminToken, trustedProxies, reaper, nginx, ports, limits, allowedOrigins, templatesDir, brand, previews, tls, github, gitlab, builds, metrics, admin, runtime, swarm, log, registries, shared, apps",
    ]);
  });

  it("refuses a file that is not YAML, naming the line", () => {
    expect(problemsOf("apps:\n  hello: [unclosed\n")[0]).toMatch(/^line \d+: is not valid YAML/);
  });

  it("refuses ids too short to be unguessable and bad app names", () => {
    expect(problemsOf("idLength: 4")).toEqual(["idLength: 4 is wrong: must be at least 8 (ids must be unguessable)"]);
    expect(problemsOf("apps:\n  Hello_App: { image: x, port: 80 }")[0]).toMatch(/^apps.Hello_App: "Hello_App" must be an app name/);
  });
});

describe("preview sources and builds", () => {
  it("have defaults, and a repo given as a path is taken from the file's directory", () => {
    const config = parseConfigText("previews:\n  web: { repo: ../repos/web.git, port: 3000 }\n  api: { repo: 'git://127.0.0.1/api.git', port: 8080, context: services/api }\n", "test.yaml", "/srv/conf");
    expect(config.previews.web).toMatchObject({ repo: "/srv/repos/web.git", dockerfile: "Dockerfile", context: ".", port: 3000, refresh: 300_000, idleStop: 1_800_000, keep: 7 * 86_400_000, readiness: { path: "/", timeout: 60_000 } });
    expect(config.previews.api!.repo).toBe("git://127.0.0.1/api.git");
    expect(config.previews.api!.context).toBe("services/api");
    expect(config.builds).toEqual({ concurrency: 2, timeout: 900_000, minFreeDisk: 2 * 1024 ** 3, queueLength: 50, memory: 2 * 1024 ** 3, cpus: 1, pids: 1024, disk: 4 * 1024 ** 3, egress: "internet", maxImagesPerSource: 10 });
    expect(parseConfigText("", "test.yaml", "/srv").previews).toEqual({});
  });

  it("refuse other transports, hyphenated source names and contexts outside the repository, naming the key", () => {
    expect(problemsOf("previews:\n  web: { repo: 'ext::sh -c touch% /tmp/x', port: 3000 }\n")).toEqual(['previews.web.repo: "ext::sh -c touch% /tmp/x" is wrong: must be a git URL (git://, https://, ssh://, file://), user@host:path or a path; other transports are refused']);
    expect(problemsOf("previews:\n  my-web: { repo: /srv/web.git, port: 3000 }\n")[0]).toMatch(/^previews\.my-web: "my-web" must be a source name of 1 to 20 lowercase letters and digits/);
    expect(problemsOf("previews:\n  web: { repo: /srv/web.git, port: 3000, context: ../.. }\n")).toEqual(['previews.web.context: "../.." is wrong: must be a folder inside the repository (no leading /, no ..)']);
    expect(problemsOf("builds: { concurrency: 0 }\n")).toEqual(["builds.concurrency: 0 is wrong: must be a whole number of builds, at least 1"]);
    expect(problemsOf("builds: { cpus: 0 }\n")).toEqual(["builds.cpus: 0 is wrong: must be more than 0"]);
    expect(problemsOf("builds: { memory: lots }\n")[0]).toMatch(/^builds\.memory: "lots" is wrong: /);
  });
});

describe("state sources and shared demos", () => {
  const app = `apps:
  wp:
    image: wp
    port: 8080
    state:
      default: fixtures
      sources:
        fixtures: { driver: mariadb, file: /opt/demo/fixtures.sql, database: wordpress }
`;

  it("read a dump source with its defaults and a shared demo with its schedule", () => {
    const config = parseConfigText(`${app}shared:\n  try: { app: wp, replicas: 2, reset: "0 */6 * * *", timeZone: Europe/Berlin }\n`, "test.yaml", "/srv");
    expect(config.apps.wp!.state).toEqual({ default: "fixtures", sources: { fixtures: { kind: "dump", driver: "mariadb", file: "/opt/demo/fixtures.sql", database: "wordpress", timeout: 600_000 } } });
    expect(config.shared.try).toEqual({ app: "wp", replicas: 2, reset: "0 */6 * * *", timeZone: "Europe/Berlin", hosts: [] });
  });

  it("refuse a bad cron expression, time zone, app, source, database name or dump path, naming the key", () => {
    expect(problemsOf(`${app}shared:\n  try: { app: wp, reset: "every night" }\n`)[0]).toMatch(/^shared\.try\.reset: "every night" is wrong: must be a cron expression such as "0 3 \* \* \*"/);
    expect(problemsOf(`${app}shared:\n  try: { app: wp, reset: "61 * * * *" }\n`)[0]).toMatch(/^shared\.try\.reset: /);
    expect(problemsOf(`${app}shared:\n  try: { app: wp, timeZone: Mars/Base }\n`)).toEqual(['shared.try.timeZone: "Mars/Base" is wrong: must be an IANA time zone such as UTC or Europe/Berlin']);
    expect(problemsOf(`${app}shared:\n  try: { app: nope }\n`)).toEqual(['shared.try.app: "nope" is wrong: must be one of the apps: wp']);
    expect(problemsOf(`${app}shared:\n  try: { app: wp, source: big }\n`)).toEqual(['shared.try.source: "big" is wrong: must be one of the state sources of wp: fixtures']);
    expect(problemsOf(`${app}shared:\n  abcdefgh: { app: wp }\n`)[0]).toMatch(/^shared\.abcdefgh: .*could be a visitor's demo id/);
    expect(problemsOf(app.replace("database: wordpress", "database: 'wp; DROP'"))[0]).toMatch(/^apps\.wp\.state\.sources\.fixtures\.database: "wp; DROP" is wrong: must be a database name of letters, digits and _/);
    expect(problemsOf(app.replace("/opt/demo/fixtures.sql", "../etc/passwd"))[0]).toMatch(/^apps\.wp\.state\.sources\.fixtures\.file: .*must be an absolute path inside the app's image/);
    expect(problemsOf(app.replace("default: fixtures", "default: other"))).toEqual(['apps.wp.state.default: "other" is wrong: must be one of the sources: fixtures']);
    expect(problemsOf(app.replace("{ driver: mariadb, file: /opt/demo/fixtures.sql, database: wordpress }", "{ driver: mariadb }"))).toEqual(["apps.wp.state.sources.fixtures.file: is missing; it must be set for a source of kind dump", "apps.wp.state.sources.fixtures.database: is missing; it must be set for a source of kind dump"]);
    expect(problemsOf(app.replace("{ driver: mariadb, file: /opt/demo/fixtures.sql, database: wordpress }", "{ kind: snapshot, file: /x.sql }"))).toEqual(['apps.wp.state.sources.fixtures.file: "/x.sql" is for dumps only (a snapshot is the demo\'s whole container)']);
    expect(parseConfigText(app.replace("{ driver: mariadb, file: /opt/demo/fixtures.sql, database: wordpress }", "{ kind: snapshot, auto: true }"), "test.yaml", "/srv").apps.wp!.state!.sources.fixtures).toEqual({ kind: "snapshot", auto: true });
    expect(problemsOf(app.replace("driver: mariadb", "driver: oracle"))[0]).toMatch(/^apps\.wp\.state\.sources\.fixtures\.driver: "oracle" is wrong: must be one of: mariadb, mysql, postgres/);
  });
});

describe("the databases guide's config for the apps on real databases", () => {
  it("is a valid config, with both apps, their sources and the shared demo", async () => {
    const { readFile } = await import("node:fs/promises");
    const guide = await readFile(new URL("../../docs/guides/databases-and-rewinds.md", import.meta.url), "utf8");
    const yaml = /```yaml\n([\s\S]*?)```/.exec(guide)![1]!;
    const config = parseConfigText(yaml, "databases-and-rewinds.md", "/srv");
    expect(Object.keys(config.apps)).toEqual(["wordpress", "notes"]);
    expect(config.apps.wordpress!.state!.sources.saved).toEqual({ kind: "snapshot", title: "Set up by the sales team", auto: false });
    expect(config.shared.try).toEqual({ app: "wordpress", replicas: 2, reset: "0 */6 * * *", timeZone: "Europe/Berlin", source: "fixtures", hosts: [] });
  });
});

describe("the console's settings (admin:)", () => {
  const oidc = "admin:\n  oidc: { issuer: https://login.example.org, clientId: demo, clientSecret: s3cret, allowedEmails: [Ops@Example.org] }\n";

  it("have defaults, and read an OpenID provider with the secret from the environment", () => {
    const plain = parseConfigText("", "test.yaml", "/srv");
    expect(plain.admin).toEqual({ session: 8 * 3_600_000 });
    const config = parseConfigText(oidc.replace(", clientSecret: s3cret", ""), "test.yaml", "/srv", { DEMO_LAUNCHER_OIDC_CLIENT_SECRET: "from-env" });
    expect(config.admin.oidc).toMatchObject({ issuer: "https://login.example.org", clientId: "demo", clientSecret: "from-env", allowedEmails: ["ops@example.org"], allowedGroups: [], groupsClaim: "groups" });
  });

  it("refuse plain http off this machine, a provider that lets everyone in, a missing secret and a console host among the demos", () => {
    expect(problemsOf(oidc.replace("https://login.example.org", "http://login.example.org"))).toEqual(['admin.oidc.issuer: "http://login.example.org" is wrong: must use https (plain http is accepted only for a provider on this machine)']);
    expect(parseConfigText(oidc.replace("https://login.example.org", "http://127.0.0.1:9000"), "test.yaml", "/srv").admin.oidc!.issuer).toBe("http://127.0.0.1:9000");
    expect(problemsOf(oidc.replace(", allowedEmails: [Ops@Example.org]", ""))[0]).toMatch(/^admin\.oidc: .*must allow someone: list allowedEmails or allowedGroups/);
    expect(problemsOf(oidc.replace(", clientSecret: s3cret", ""))).toEqual(["admin.oidc.clientSecret: is missing; it must be the client secret the provider gave this console (or set DEMO_LAUNCHER_OIDC_CLIENT_SECRET)"]);
    expect(problemsOf("domain: demo.example.org\nadmin: { host: ops.demo.example.org }")[0]).toMatch(/^admin\.host: .*must be outside demo\.example\.org/);
    expect(problemsOf("admin: { session: 30d }")).toEqual(['admin.session: "30d" is wrong: must be from 1s to 7d']);
  });
});
