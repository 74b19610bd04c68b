// Reading a Compose file into an environment: what runs unchanged, every refusal named with its service and key, and the start order.
import { describe, expect, it } from "vitest";
import { readCompose, type ComposeReading, type ProjectFiles } from "../../src/compose/load.js";
import { DEFAULT_CAPABILITIES } from "../../src/core/app-spec.js";
import type { EnvironmentSpec } from "../../src/core/environments/environment-spec.js";

function memoryFiles(files: Record<string, string>): ProjectFiles {
  const folders = new Set(Object.keys(files).flatMap((file) => file.split("/").slice(0, -1).map((_, index, parts) => parts.slice(0, index + 1).join("/"))));
  return {
    describe: "the test's project",
    read: async (relative) => files[relative.replace(/^\.\//, "")],
    exists: async (relative) => Object.hasOwn(files, relative) || folders.has(relative),
  };
}

async function read(compose: string, extra: Record<string, string> = {}, options: Partial<Parameters<typeof readCompose>[0]> = {}): Promise<ComposeReading> {
  return readCompose({ files: memoryFiles({ "compose.yaml": compose, ...extra }), file: "compose.yaml", variables: { DEMO_URL: "http://abc.demo.localhost" }, capabilities: DEFAULT_CAPABILITIES, ...options });
}

async function accepted(compose: string, extra: Record<string, string> = {}, options: Partial<Parameters<typeof readCompose>[0]> = {}): Promise<{ environment: EnvironmentSpec; warnings: string[] }> {
  const reading = await read(compose, extra, options);
  if (!reading.ok) throw new Error(`refused:\n${reading.problems.join("\n")}`);
  return reading;
}

async function problems(compose: string, extra: Record<string, string> = {}): Promise<string[]> {
  const reading = await read(compose, extra);
  if (reading.ok) throw new Error("accepted a file that should be refused");
  return reading.problems;
}

const LOCAL_DEVELOPMENT = `
x-common: &common
  restart: always
  environment: &env
    DATABASE_URL: postgres://app:\${DB_PASSWORD:-secret}@db:5432/app
services:
  web:
    <<: *common
    build: { context: ./web, args: { NODE_ENV: production } }
    ports: ["127.0.0.1:3000:3000"]
    environment:
      <<: *env
      APP_URL: \${DEMO_URL}
      REDIS_URL: redis://cache:6379
    env_file: [web.env]
    volumes: ["./web/config.json:/app/config.json:ro"]
    depends_on:
      db: { condition: service_healthy }
      cache: { condition: service_started }
    secrets: [api_key]
  worker:
    <<: *common
    build: ./web
    command: node worker.js --queue "jobs default"
    depends_on: [db, cache]
  db:
    image: postgres:15
    restart: unless-stopped
    environment: [POSTGRES_PASSWORD=secret, POSTGRES_USER=app]
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U app"]
      interval: 2s
      timeout: 1s
      retries: 30
    deploy: { resources: { limits: { memory: 512m, cpus: "0.5", pids: 200 } } }
  cache:
    image: redis:7
    expose: ["6379"]
    tmpfs: ["/data:size=64m"]
  admin:
    image: adminer
    profiles: [debug]
volumes:
  pgdata:
secrets:
  api_key: { file: ./secrets/api_key.txt }
`;
const LOCAL_FILES = { "web.env": "LOG_LEVEL=debug\nDATABASE_URL=overridden-by-environment\n", "web/config.json": "{}", "web/Dockerfile": "FROM scratch", "secrets/api_key.txt": "k" };

describe("reading a Compose file", () => {
  it("runs a file written for local development unchanged: anchors, builds, env files, healthchecks, secrets, bind mounts from the repository", async () => {
    const { environment, warnings } = await accepted(LOCAL_DEVELOPMENT, LOCAL_FILES);
    expect(environment.services.map((service) => service.name)).toEqual(["db", "cache", "web", "worker"]);
    expect(environment.routes).toEqual([{ service: "web", port: 3000 }]);
    expect(environment.volumes).toEqual(["pgdata"]);
    const web = environment.services.find((service) => service.name === "web")!;
    expect(web).toMatchObject({
      build: { context: "web", args: { NODE_ENV: "production" } },
      env: { DATABASE_URL: "postgres://app:secret@db:5432/app", APP_URL: "http://abc.demo.localhost", REDIS_URL: "redis://cache:6379", LOG_LEVEL: "debug" },
      dependsOn: [{ service: "db", condition: "service_healthy" }, { service: "cache", condition: "service_started" }],
      restart: "always",
      mounts: [{ kind: "copy", source: "web/config.json", target: "/app/config.json", readOnly: true }, { kind: "copy", source: "secrets/api_key.txt", target: "/run/secrets/api_key", readOnly: true, mode: 0o444 }],
    });
    expect(environment.services.find((service) => service.name === "worker")).toMatchObject({ command: ["node", "worker.js", "--queue", "jobs default"], build: { context: "web" } });
    expect(environment.services.find((service) => service.name === "db")).toMatchObject({
      image: "postgres:15",
      restart: "unless-stopped",
      healthcheck: { test: ["CMD-SHELL", "pg_isready -U app"], intervalMs: 2000, timeoutMs: 1000, retries: 30 },
      limits: { memory: 512 * 1024 ** 2, cpus: 0.5, pids: 200 },
      mounts: [{ kind: "volume", volume: "pgdata", target: "/var/lib/postgresql/data", readOnly: false }],
    });
    expect(environment.services.find((service) => service.name === "cache")).toMatchObject({ listens: [6379], mounts: [{ kind: "tmpfs", target: "/data", sizeBytes: 64 * 1024 ** 2 }] });
    expect(warnings).toEqual([]);
  });

  it("switches on a profile's services when asked", async () => {
    const { environment } = await accepted(LOCAL_DEVELOPMENT, LOCAL_FILES, { profiles: ["debug"] });
    expect(environment.services.map((service) => service.name)).toContain("admin");
  });

  it.each([
    ["privileged", "    privileged: true", "services.web.privileged: refused: a privileged container owns the host"],
    ["devices", "    devices: [/dev/fuse]", "services.web.devices: refused: host devices are not given to demos"],
    ["network_mode host", "    network_mode: host", `services.web.network_mode: refused: "host" would share the host's or another container's namespace`],
    ["network_mode of another container", "    network_mode: service:db", `services.web.network_mode: refused: "service:db" would share the host's or another container's namespace`],
    ["pid host", "    pid: host", `services.web.pid: refused: "host" would share the host's or another container's namespace`],
    ["ipc of another container", "    ipc: container:abc", `services.web.ipc: refused: "container:abc" would share the host's or another container's namespace`],
    ["container_name", "    container_name: my-web", "services.web.container_name: refused: demo-launcher names containers itself"],
    ["the Docker socket", "    volumes: [/var/run/docker.sock:/var/run/docker.sock]", "services.web.volumes[0]: refused: the Docker socket is never given to a demo"],
    ["a bind mount outside the folder", "    volumes: [../secrets:/secrets]", `services.web.volumes[0]: refused: "../secrets" is outside the project's folder`],
    ["an absolute bind mount", "    volumes: [/etc:/host-etc:ro]", `services.web.volumes[0]: refused: "/etc" is outside the project's folder`],
    ["cap_add beyond the app's", "    cap_add: [SYS_ADMIN]", "services.web.cap_add: refused: SYS_ADMIN is beyond the app's capabilities"],
    ["our own labels", "    labels: { demo-launcher.id: spoofed }", "services.web.labels.demo-launcher.id: refused: labels under demo-launcher. are the controller's record"],
    ["an env_file outside the folder", "    env_file: ../../root.env", `services.web.env_file: "../../root.env": refused: outside the project's folder`],
    ["a build context outside the folder", "    build: ../other", `services.web.build.context: "../other": refused: outside the project's folder`],
    ["a key we do not run", "    sysctls: { net.core.somaxconn: 1024 }", "services.web.sysctls: refused: kernel settings are the host's"],
    ["an unknown-to-us key", "    shm_size: 1g", "services.web.shm_size: not supported by demo-launcher (supported: "],
  ])("refuses %s, naming the service and key", async (_, line, expected) => {
    const found = await problems(`services:\n  web:\n    image: app\n${line}\n`);
    expect(found.join("\n")).toContain(`compose.yaml: ${expected}`);
  });

  it.each([
    ["external networks", "networks:\n  shared: { external: true }\n", "networks.shared.external: refused: an environment reaches only its own network"],
    ["external volumes", "volumes:\n  data: { external: true }\n", "volumes.data.external: refused: an environment owns its volumes"],
    ["a volume driver that can bind a host path", "volumes:\n  data: { driver_opts: { type: none, device: /etc, o: bind } }\n", "volumes.data.driver_opts: refused: a local volume with options can bind a host path"],
    ["external secrets", "secrets:\n  token: { external: true }\n", "secrets.token.external: refused: only file-based secrets are supported"],
  ])("refuses %s", async (_, top, expected) => {
    expect((await problems(`services:\n  web: { image: app, ports: ["80"] }\n${top}`)).join("\n")).toContain(expected);
  });

  it("refuses extends from outside the project and merges one from inside", async () => {
    expect((await problems("services:\n  web: { extends: { file: ../base.yaml, service: web } }\n")).join("\n")).toContain(`services.web.extends.file: "../base.yaml": refused: outside the project's folder`);
    const { environment } = await accepted("services:\n  web:\n    extends: { file: common/base.yaml, service: base }\n    environment: { OWN: yes }\n    ports: ['8080']\n", { "common/base.yaml": "services:\n  base:\n    image: app:1\n    environment: { SHARED: '1' }\n" });
    expect(environment.services[0]).toMatchObject({ image: "app:1", env: { SHARED: "1", OWN: "yes" } });
  });

  it("collects every problem of a file at once, each on its own line", async () => {
    const found = await problems("services:\n  web:\n    image: app\n    privileged: true\n    container_name: my-web\n  db:\n    image: postgres\n    pid: host\n");
    expect(found).toEqual([
      "compose.yaml: services.web.privileged: refused: a privileged container owns the host",
      "compose.yaml: services.web.container_name: refused: demo-launcher names containers itself (each environment runs many times at once)",
      `compose.yaml: services.db.pid: refused: "host" would share the host's or another container's namespace`,
    ]);
  });

  it("gives Compose's own message for a file that is not valid Compose", async () => {
    expect(await problems("services:\n  web:\n    image: app\n    imagee: typo\n")).toEqual([`compose.yaml: services.web: "imagee" is not a Compose key here`]);
    expect(await problems("services:\n  web:\n    image: [not, a, string]\n")).toEqual(["compose.yaml: services.web.image: must be string"]);
    expect(await problems("services:\n  web:\n    image: app\n    depends_on: { db: { condition: when_ready } }\n")).toContain(`compose.yaml: services.web.depends_on.db.condition: must be one of "service_started", "service_healthy", "service_completed_successfully"`);
    expect(await problems("services: [web]\n")).toEqual(["compose.yaml: services: must be object"]);
  });

  it("names the line of a YAML error and refuses duplicate keys", async () => {
    expect((await problems("services:\n  web:\n    image: app\n    image: other\n"))[0]).toMatch(/^compose\.yaml, line 4: Map keys must be unique/);
    expect((await problems("services:\n  web: [\n"))[0]).toMatch(/^compose\.yaml, line \d+:/);
  });

  it("chooses the routed service: the config's, else the one service that publishes a port", async () => {
    expect((await accepted("services:\n  web: { image: app, expose: ['3000', '9090'] }\n  db: { image: postgres }\n", {}, { routes: [{ service: "web", port: 3000 }] })).environment.routes).toEqual([{ service: "web", port: 3000 }]);
    expect((await problems("services:\n  web: { image: app, ports: ['80'] }\n  api: { image: api, ports: ['8080:8080'] }\n")).join("\n")).toContain("route: say which service nginx routes to, such as route: { service: web, port: 3000 } (web, api publish ports)");
    expect((await problems("services:\n  web: { image: app, ports: ['80', '443'] }\n")).join("\n")).toContain("route: say which port of web nginx routes to");
    expect((await read("services:\n  web: { image: app, ports: ['80'] }\n", {}, { routes: [{ service: "api", port: 80 }] })).ok).toBe(false);
  });

  it("runs a service with network_mode: none without a network, and refuses to route one", async () => {
    const { environment } = await accepted("services:\n  web: { image: app, ports: ['80'] }\n  batch: { image: job, network_mode: none }\n");
    expect(environment.services.find((service) => service.name === "batch")).toMatchObject({ noNetwork: true });
    expect(await problems("services:\n  web: { image: app, ports: ['80'], network_mode: none }\n")).toEqual(['compose.yaml: services.web.network_mode: "none" cannot be routed: nginx would have nothing to reach']);
  });

  it("takes deploy.placement.constraints (where Swarm may run a service) and refuses what it cannot honour", async () => {
    const { environment } = await accepted("services:\n  web: { image: app, ports: ['80'], deploy: { placement: { constraints: ['node.labels.db!=yes'] } } }\n  db: { image: pg, deploy: { placement: { constraints: [node.labels.db==yes, node.role==worker] } } }\n");
    expect(environment.services.find((service) => service.name === "db")!.constraints).toEqual(["node.labels.db==yes", "node.role==worker"]);
    expect(environment.services.find((service) => service.name === "web")!.constraints).toEqual(["node.labels.db!=yes"]);
    expect(await problems("services:\n  web: { image: app, ports: ['80'], deploy: { placement: { constraints: ['node.labels.db'], preferences: [{ spread: node.id }] }, replicas: 2 } }\n")).toEqual([
      "compose.yaml: services.web.deploy.replicas: not supported by demo-launcher (supported: deploy.resources.limits, deploy.placement.constraints)",
      "compose.yaml: services.web.deploy.placement.preferences: not supported (supported: constraints)",
      'compose.yaml: services.web.deploy.placement.constraints[0]: "node.labels.db" is not a constraint such as node.labels.db==yes or node.role!=manager',
    ]);
  });

  it("orders services by depends_on and names a cycle", async () => {
    const { environment } = await accepted("services:\n  web: { image: a, ports: ['80'], depends_on: [api] }\n  api: { image: b, depends_on: [db] }\n  db: { image: c }\n");
    expect(environment.services.map((service) => service.name)).toEqual(["db", "api", "web"]);
    expect((await problems("services:\n  web: { image: a, ports: ['80'], depends_on: [api] }\n  api: { image: b, depends_on: [web] }\n")).join("\n")).toContain("services: depends_on goes round in a circle: web → api → web");
    expect((await problems("services:\n  web: { image: a, ports: ['80'], depends_on: [ghost] }\n")).join("\n")).toContain("services.web.depends_on: there is no service ghost");
  });

  it("interpolates from our values over the .env beside the file, and refuses a missing required one with its message", async () => {
    const { environment, warnings } = await accepted("services:\n  web: { image: 'app:${TAG}', ports: ['80'], environment: { URL: '${DEMO_URL}', MISSING: '${NOT_SET}' } }\n", { ".env": "TAG=from-dotenv\nDEMO_URL=never-wins\n" });
    expect(environment.services[0]).toMatchObject({ image: "app:from-dotenv", env: { URL: "http://abc.demo.localhost", MISSING: "" } });
    expect(warnings).toEqual(["NOT_SET is not set: an empty string is used, as Compose does"]);
    expect(await problems("services:\n  web: { image: 'app:${TAG:?set TAG to the release}', ports: ['80'] }\n")).toEqual(["compose.yaml: services.web.image: required variable TAG is missing a value: set TAG to the release"]);
  });

  it("warns about what it ignores and about a missing bind source, refuses a missing secret file", async () => {
    const { warnings } = await accepted("services:\n  web:\n    image: app\n    ports: ['80']\n    logging: { driver: json-file }\n    volumes: ['./data:/data']\n");
    expect(warnings).toEqual(["services.web.logging is ignored: demo-launcher caps every container's log itself", "data does not exist in the project: /data starts as an empty folder"]);
    expect(await problems("services:\n  web: { image: app, ports: ['80'], secrets: [token] }\nsecrets:\n  token: { file: token.txt }\n")).toEqual(["compose.yaml: token.txt (for /run/secrets/token) does not exist in the project"]);
  });
});
