// An environment's service as a Swarm service spec: Compose's fields in Swarm's terms, limits held to the app's, volumes and copied files labelled, and what a replacement compares.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceSpec } from "../../src/core/environments/environment-spec.js";
import { copiedFiles, environmentServiceOptions, restartConditionOf, swarmServiceFingerprint, type EnvironmentSpecOf, type ServiceInput } from "../../src/swarm/environment-services.js";

const service = (overrides: Partial<ServiceSpec> = {}): ServiceSpec => ({ name: "db", image: "pg", env: { POSTGRES_DB: "app" }, listens: [], dependsOn: [], mounts: [{ kind: "volume", volume: "data", target: "/var/lib/data", readOnly: false }], labels: {}, limits: { memory: 512 * 1024 ** 2 }, restart: "no", aliases: ["database"], capAdd: [], capDrop: [], ...overrides });

const spec: EnvironmentSpecOf = {
  demoId: "abc12345", instanceId: "abc12345-1", namespace: "ns", image: "web", containerPort: 8080, labels: { "demo-launcher.id": "abc12345" },
  env: { DEMO_ID: "abc12345", DEMO_URL: "http://abc12345.demo.localhost" }, memoryBytes: 256 * 1024 ** 2, cpus: 1, pids: 100,
  environment: { spec: { services: [], volumes: ["data"], routes: [{ service: "web", port: 8080 }] }, projectRoot: "/nowhere", startTimeoutMs: 60_000 },
};

const input = (overrides: Partial<ServiceInput> = {}): ServiceInput => ({ name: "demo-launcher-ns-abc12345-1-db", image: "10.0.0.1:5000/pg", network: "demo-launcher-ns-abc12345", labels: { "demo-launcher.service": "db" }, constraints: ["node.labels.db==yes"], configs: [], emptyFolders: [], restart: "any", ...overrides });

describe("an environment's service on a swarm", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "swarm-env-unit-"));
    await mkdir(path.join(dir, "web", "cgi-bin"), { recursive: true });
    await writeFile(path.join(dir, "web", "cgi-bin", "index.cgi"), "#!/bin/sh\necho hi\n");
    await chmod(path.join(dir, "web", "cgi-bin", "index.cgi"), 0o755);
    await writeFile(path.join(dir, "web", ".gitkeep"), "");
    await writeFile(path.join(dir, "init.sql"), "create table t();\n");
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("puts Compose's fields in Swarm's terms: entrypoint as Command, command as Args, limits at most the app's, its volume labelled as the demo's", () => {
    const options = environmentServiceOptions(spec, service({ entrypoint: ["/entry"], command: ["serve", "--fast"], healthcheck: { test: ["CMD", "true"], intervalMs: 300 } }), input()) as { TaskTemplate: { ContainerSpec: Record<string, unknown>; Resources: { Limits: Record<string, number> }; Networks: unknown; Placement: { Constraints: string[] } }; EndpointSpec: { Ports: unknown[] } };
    const container = options.TaskTemplate.ContainerSpec;
    expect(container).toMatchObject({ Command: ["/entry"], Args: ["serve", "--fast"], Image: "10.0.0.1:5000/pg", Healthcheck: { Test: ["CMD", "true"], Interval: 300_000_000 }, Privileges: { NoNewPrivileges: true }, CapabilityDrop: ["ALL"] });
    expect(container.Env).toEqual(expect.arrayContaining(["POSTGRES_DB=app", "DEMO_ID=abc12345"]));
    expect(container.Mounts).toEqual([{ Type: "volume", Source: "demo-launcher-ns-abc12345-data", Target: "/var/lib/data", ReadOnly: false, VolumeOptions: { Labels: { "demo-launcher.namespace": "ns", "demo-launcher.id": "abc12345", "demo-launcher.environment-object": "data" } } }]);
    // The file asked 512 MB; the app allows 256 MB.
    expect(options.TaskTemplate.Resources.Limits).toEqual({ MemoryBytes: 256 * 1024 ** 2, NanoCPUs: 1e9, Pids: 100 });
    expect(options.TaskTemplate.Networks).toEqual([{ Target: "demo-launcher-ns-abc12345", Aliases: ["db", "database"] }]);
    expect(options.TaskTemplate.Placement.Constraints).toEqual(["node.labels.db==yes"]);
    expect(options.EndpointSpec.Ports).toEqual([]);
    const routed = environmentServiceOptions(spec, service({ name: "web", mounts: [] }), input({ publishedPort: 20001 })) as { EndpointSpec: { Ports: unknown[] } };
    expect(routed.EndpointSpec.Ports).toEqual([{ Protocol: "tcp", TargetPort: 8080, PublishedPort: 20001, PublishMode: "host" }]);
  });

  it("runs once what others wait to finish, and starts the rest again when they end (as docker stack deploy does)", () => {
    expect(restartConditionOf(service({ restart: "no" }), true)).toBe("none");
    expect(restartConditionOf(service({ restart: "no" }), false)).toBe("any");
    expect(restartConditionOf(service({ restart: "on-failure" }), true)).toBe("on-failure");
    expect(restartConditionOf(service({ restart: "unless-stopped" }), false)).toBe("any");
  });

  it("copies each file of a folder as a config with its mode (no write bits when read-only), leaves empty files out, and makes a missing folder an empty tmpfs", async () => {
    const copies = await copiedFiles(dir, service({ mounts: [{ kind: "copy", source: "web", target: "/srv", readOnly: true }, { kind: "copy", source: "init.sql", target: "/docker-entrypoint-initdb.d/init.sql", readOnly: false, mode: 0o440 }, { kind: "copy", source: "scratch", target: "/scratch", readOnly: false }] }));
    expect(copies.files.map((file) => [file.target, file.mode.toString(8)])).toEqual([["/srv/cgi-bin/index.cgi", "555"], ["/docker-entrypoint-initdb.d/init.sql", "440"]]);
    expect(copies.emptyFolders).toEqual(["/scratch"]);
  });

  it("hashes what the service is made of: not the demo's own values or our labels, but its image, its settings and its files' content", () => {
    const hash = (svc: ServiceSpec, env: Record<string, string>, labels: Record<string, string>, imageId: string, data: string) => swarmServiceFingerprint(environmentServiceOptions({ ...spec, env }, svc, input({ labels })), imageId, [{ target: "/x", mode: 0o444, data: Buffer.from(data) }]);
    const base = hash(service(), { DEMO_ID: "a" }, { "demo-launcher.instance": "1" }, "sha256:1", "one");
    expect(hash(service(), { DEMO_ID: "b", DEMO_COMMIT: "c2" }, { "demo-launcher.instance": "2" }, "sha256:1", "one")).toBe(base);
    expect(hash(service(), { DEMO_ID: "a", OTHER: "x" }, {}, "sha256:1", "one")).not.toBe(base);
    expect(hash(service(), { DEMO_ID: "a" }, {}, "sha256:2", "one")).not.toBe(base);
    expect(hash(service(), { DEMO_ID: "a" }, {}, "sha256:1", "two")).not.toBe(base);
    expect(hash(service({ command: ["other"] }), { DEMO_ID: "a" }, {}, "sha256:1", "one")).not.toBe(base);
  });
});
