// Unit tests of the config parser: defaults, and every problem named with key, value and what is allowed.
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";

function problemsOf(yaml: string): string[] {
  try {
    parseConfigText(yaml, "test.yaml", "/srv");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.key}: ${problem.message}`);
  }
  throw new Error("expected the config to be refused");
}

describe("config", () => {
  it("gives the embedded default set-up from an empty file", () => {
    const config = parseConfigText("", "test.yaml", "/srv");
    expect(config.domain).toBe("demo.localhost");
    expect(config.listen).toEqual({ host: "127.0.0.1", port: 8081 });
    expect(config.nginx.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.nginx.configDir).toBe("/srv/.run/nginx");
    expect(config.nginx.probeUrl).toBe("http://127.0.0.1:8080");
    expect(config.ports).toEqual({ from: 20000, to: 29999 });
    expect(config.limits).toEqual({ maxDemos: 50, perClient: 1, queueLength: 20, launchesPerClient: 10, launchWindow: 600_000 });
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
      "apps.hello.colour: unknown key; allowed keys here: image, port, title, description, ttl, memory, cpus, pids, env, banner, pool, readiness",
      "bogus: unknown key; allowed keys here: domain, listen, namespace, idLength, publicScheme, publicPort, stateDir, network, adminToken, trustedProxies, reaper, nginx, ports, limits, allowedOrigins, templatesDir, brand, apps",
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
