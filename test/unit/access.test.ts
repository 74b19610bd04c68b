// Who may open a demo, in the pure core and at the config: the decision per mode and session, the desk's share links,
// passwords and gates on a manual clock, the config's words for bad access settings, and the routes file's gate map.
import { describe, expect, it } from "vitest";
import { AccessDesk, type AccessState } from "../../src/core/access/access-desk.js";
import { decideAccess, personAllowed, policyFor, type AccessFacts, type AccessPolicy, type HostSession } from "../../src/core/access/policy.js";
import { ManualScheduler } from "../../src/core/scheduler.js";
import type { Demo } from "../../src/core/model.js";
import { routesFor } from "../../src/core/routing/routes.js";
import { hashPassword, passwordMatches } from "../../src/http/access/passwords.js";
import { silentLogger } from "../../src/logger.js";
import { RoutesRenderer } from "../../src/nginx/render.js";
import { problemsOf } from "../support/config-problems.js";

const HOST = "web-main.demo.example.org";
const admins = { emails: ["ops@example.org"], groups: ["operators"] };
const session = (fields: Partial<HostSession>): HostSession => ({ sid: "s1", host: HOST, via: "signin", exp: 10_000, ...fields });
const facts = (policy: AccessPolicy, given: HostSession | undefined, more: Partial<AccessFacts> = {}): AccessFacts => ({ policy, host: HOST, session: given, admins, shareLive: () => true, passwordStamp: "stamp1", signedOut: () => false, ...more });

function demo(fields: Partial<Demo> = {}): Demo {
  return { id: "web-main", kind: "preview", app: "web", host: HOST, createdAt: 0, expiresAt: 3_600_000, status: "ready", step: "done", instances: [{ id: "web-main-1", generation: 1, image: "img", endpoint: "127.0.0.1:20001", health: "healthy" }], ...fields };
}

describe("who may open a demo", () => {
  it("lets everyone into a public demo and nobody without a session into a gated one, naming why", () => {
    expect(decideAccess(facts({ mode: "public" }, undefined))).toEqual({ allowed: true, via: "public" });
    expect(decideAccess(facts({ mode: "signin" }, undefined))).toEqual({ allowed: false, reason: "no-session" });
    expect(decideAccess(facts({ mode: "owner" }, undefined))).toEqual({ allowed: false, reason: "not-owner" });
    expect(decideAccess(facts({ mode: "password" }, undefined, { passwordStamp: undefined }))).toEqual({ allowed: false, reason: "no-password" });
  });

  it("checks a sign-in against the list at every request: addresses, domains, groups, and the console's admins", () => {
    const policy: AccessPolicy = { mode: "signin", allow: { emails: ["client@customer.test"], domains: ["example.org"], groups: ["reviewers"] } };
    const verdict = (email: string | undefined, groups: string[] = []) => decideAccess(facts(policy, session({ ...(email ? { email } : {}), groups }))).allowed;
    expect([verdict("client@customer.test"), verdict("dev@example.org"), verdict("x@other.test", ["reviewers"]), verdict("ops@example.org"), verdict("y@other.test", ["operators"])]).toEqual([true, true, true, true, true]);
    expect([verdict("mallory@elsewhere.test"), verdict("dev@example.org.evil.test"), verdict(undefined, ["marketing"])]).toEqual([false, false, false]);
    expect(decideAccess(facts(policy, session({ email: "mallory@elsewhere.test" })))).toEqual({ allowed: false, reason: "not-allowed" });
    // Without allow:, the admins only.
    expect(personAllowed(undefined, admins, "dev@example.org", [])).toBe(false);
    expect(personAllowed(undefined, admins, "OPS@example.org", [])).toBe(true);
  });

  it("refuses a session of another host, one signed out, a share that ended, an old password and the wrong way in", () => {
    const signin: AccessPolicy = { mode: "signin", allow: { emails: [], domains: ["example.org"], groups: [] } };
    expect(decideAccess(facts(signin, session({ host: "web-other.demo.example.org", email: "a@example.org" })))).toEqual({ allowed: false, reason: "other-host" });
    expect(decideAccess(facts(signin, session({ email: "a@example.org" }), { signedOut: (sid) => sid === "s1" }))).toEqual({ allowed: false, reason: "signed-out" });
    expect(decideAccess(facts(signin, session({ via: "share", share: "abc" }), { shareLive: () => false }))).toEqual({ allowed: false, reason: "share-ended" });
    expect(decideAccess(facts(signin, session({ via: "share", share: "abc" })))).toEqual({ allowed: true, via: "share" });
    expect(decideAccess(facts({ mode: "password" }, session({ via: "password", stamp: "stamp0" })))).toEqual({ allowed: false, reason: "password-changed" });
    expect(decideAccess(facts({ mode: "password" }, session({ via: "password", stamp: "stamp1" })))).toEqual({ allowed: true, via: "password" });
    // A password session does not open a sign-in demo, nor an owner's cookie a password demo.
    expect(decideAccess(facts(signin, session({ via: "password", stamp: "stamp1" })))).toEqual({ allowed: false, reason: "no-session" });
    expect(decideAccess(facts({ mode: "password" }, session({ via: "owner" })))).toEqual({ allowed: false, reason: "no-session" });
    expect(decideAccess(facts({ mode: "owner" }, session({ via: "owner" })))).toEqual({ allowed: true, via: "owner" });
  });

  it("takes a shared demo's own policy over its app's, and owner only for visitors' demos", () => {
    expect(policyFor("shared", { access: { mode: "signin" } }, { mode: "password" })).toEqual({ mode: "password" });
    expect(policyFor("shared", { access: { mode: "owner" } }, undefined)).toEqual({ mode: "public" });
    expect(policyFor("visitor", { access: { mode: "owner" } }, undefined)).toEqual({ mode: "owner" });
    expect(policyFor("preview", undefined, undefined)).toEqual({ mode: "public" });
  });
});

describe("the access desk", () => {
  const make = (policy: AccessPolicy, saved: AccessState[] = [], loaded?: AccessState) => {
    const scheduler = new ManualScheduler(0);
    const republished: number[] = [];
    const live = new Map([["web-main", demo()]]);
    const desk = new AccessDesk({ store: { load: async () => loaded, save: async (state) => void saved.push(state) }, scheduler, logger: silentLogger, policyOf: () => policy, demo: (id) => live.get(id), admins, republish: async () => void republished.push(scheduler.now()) });
    return { desk, scheduler, republished, live, saved };
  };

  it("moves a gated demo's gate when a link is revoked or ends on the clock, and keeps only the token's hash", async () => {
    const { desk, scheduler, republished, saved } = make({ mode: "signin" });
    await desk.start();
    expect(desk.gateOf(demo())).toBe("s0");
    const { share, token } = await desk.createShare(demo(), 60_000, "for the customer", "ops@example.org");
    const other = await desk.createShare(demo(), 3_600_000, "", "ops@example.org");
    expect(JSON.stringify(saved.at(-1))).not.toContain(token);
    expect(desk.shareByToken("web-main", token)?.id).toBe(share.id);
    expect(desk.shareByToken("web-other", token)).toBeUndefined();
    expect(await desk.revokeShare("web-main", other.share.id, "revoked")).toBe(true);
    expect([desk.gateOf(demo()), republished.length]).toEqual(["s1", 1]);
    await scheduler.advance(60_000);
    expect([desk.gateOf(demo()), republished, desk.shares("web-main")]).toEqual(["s2", [0, 60_000], []]);
    expect(desk.shareByToken("web-main", token)).toBeUndefined();
    expect(desk.decide(demo(), HOST, session({ via: "share", share: share.id }))).toEqual({ allowed: false, reason: "share-ended" });
  });

  it("ends a link of 30 days after 30 days, not before (a timer that long would overflow)", async () => {
    const { desk, scheduler } = make({ mode: "signin" });
    await desk.start();
    await desk.createShare(demo(), 30 * 86_400_000, "", "admin token");
    await scheduler.advance(29 * 86_400_000);
    expect([desk.shares("web-main").length, desk.gateOf(demo())]).toEqual([1, "s0"]);
    await scheduler.advance(86_400_000);
    expect([desk.shares("web-main").length, desk.gateOf(demo())]).toEqual([0, "s1"]);
  });

  it("keeps links, passwords and gates across a restart, and re-arms a link's end", async () => {
    const first = make({ mode: "password", passwordHash: "scrypt$config" });
    await first.desk.start();
    await first.desk.createShare(demo(), 120_000, "", "admin token");
    await first.desk.setPassword(demo(), "scrypt$own");
    const state = first.saved.at(-1)!;
    const second = make({ mode: "password", passwordHash: "scrypt$config" }, [], state);
    await second.desk.start();
    expect([second.desk.gateOf(demo()), second.desk.passwordOf(demo())?.hash, second.desk.shares("web-main").length]).toEqual(["p1", "scrypt$own", 1]);
    await second.scheduler.advance(120_000);
    expect([second.desk.gateOf(demo()), second.desk.shares("web-main").length]).toEqual(["p2", 0]);
  });

  it("forgets what ended demos left, and is public (no gate) where the policy is", async () => {
    const { desk, live, saved } = make({ mode: "password" });
    await desk.start();
    await desk.createShare(demo(), 120_000, "", "admin token");
    live.delete("web-main");
    await desk.sweep();
    expect(saved.at(-1)).toMatchObject({ shares: [], epochs: {} });
    expect(make({ mode: "public" }).desk.gateOf(demo())).toBeUndefined();
  });
});

describe("demo passwords", () => {
  it("match their scrypt hash only, and a damaged or greedy hash matches nothing", async () => {
    const hash = await hashPassword("open sesame 42");
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await passwordMatches("open sesame 42", hash)).toBe(true);
    expect(await passwordMatches("open sesame 43", hash)).toBe(false);
    expect(await passwordMatches("open sesame 42", hash.replace("scrypt$32768", "scrypt$1073741824"))).toBe(false);
    expect(await passwordMatches("x", "not a hash")).toBe(false);
  });
});

describe("access in the config and the routes file", () => {
  it("names the key, the value and what is allowed for bad access settings", () => {
    const problems = problemsOf(`apps:
  hello: { image: img, port: 8080, access: everyone }
  crm: { image: img, port: 8080, access: { mode: password, password: hunter2 } }
  shop: { image: img, port: 8080, access: { mode: password, allow: { emails: [a@example.org] } } }
shared:
  try-it: { app: hello, access: owner }
`);
    expect(problems).toEqual([
      'shared.try-it.access: "owner" is wrong: must be one of: public, signin, password, or a map with mode, allow and password',
      'apps.hello.access: "everyone" is wrong: must be one of: public, owner, signin, password, or a map with mode, allow and password',
      "apps.crm.access.password: \"hunter2\" is wrong: must be a password hash as `demo-launcher hash-password` prints it (scrypt$…); the password itself is never written in the config",
      'apps.shop.access.allow: {"emails":["a@example.org"]} applies to mode signin only',
    ]);
    // Sign-in goes through the console's provider: without admin.oidc it is refused, naming both keys.
    expect(problemsOf("previews:\n  web: { repo: /r.git, port: 80, access: signin }\n")).toEqual(['previews.web.access: "signin" needs admin.oidc: people sign into demos through the console\'s OpenID provider']);
  });

  it("gives gated hosts (and their further routed services) a gate in the map, and public hosts none", () => {
    const gated = demo({ instances: [{ id: "web-main-1", generation: 1, image: "img", endpoint: "127.0.0.1:20001", routes: { api: "127.0.0.1:20002" }, health: "healthy" }] });
    const open = demo({ id: "abcd1234", kind: "visitor", app: "hello", host: "abcd1234.demo.example.org" });
    const routes = routesFor([gated, open], 0, () => false, () => false, (entry) => (entry.id === "web-main" ? "s3" : undefined));
    const text = new RoutesRenderer().render({ generation: 1, controller: { host: "127.0.0.1", port: 8081 }, routes });
    const gateMap = text.slice(text.indexOf("map $host $demo_launcher_gate"), text.indexOf("}", text.indexOf("map $host $demo_launcher_gate")));
    expect(gateMap.split("\n").filter((line) => line.includes("demo.example.org")).map((line) => line.trim())).toEqual(['api-web-main.demo.example.org "s3";', 'web-main.demo.example.org "s3";']);
    expect(() => new RoutesRenderer().render({ generation: 1, controller: { host: "127.0.0.1", port: 8081 }, routes: [{ ...routes[0]!, gate: 'x"; evil' }] })).toThrow(/unsafe gate/);
  });
});

describe("a pull request's comment", () => {
  it("carries a share link where the repository asks for one, and a slower older comment never overwrites a newer one", async () => {
    const { PullRequestReporter } = await import("../../src/forges/reporter.js");
    const sent: Array<{ kind: string; body?: string }> = [];
    const links: Array<(link: string | undefined) => void> = [];
    const reporter = new PullRequestReporter({ forge: "github", outbox: { send: async (message: { kind: string; body?: string }) => void sent.push(message) } as never, repoOf: () => "acme/shop", urlOf: (label: string) => `http://${label}.demo.example.org/`, onError: () => {}, shareLink: () => new Promise((resolve) => links.push(resolve)) });
    const build = (commit: string, state: string) => ({ id: "b", source: "shop", host: "shop-pr-7", commit: commit.repeat(40), state }) as never;
    reporter.buildChanged(build("a", "ready"));
    reporter.buildChanged(build("b", "ready"));
    links[1]!("http://shop-pr-7.demo.example.org/__demo/access/share/token2");
    links[0]!("http://shop-pr-7.demo.example.org/__demo/access/share/token1");
    await new Promise((resolve) => setImmediate(resolve));
    const comments = sent.filter((message) => message.kind === "comment").map((message) => message.body!);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain(`**Preview** of ${"b".repeat(12)}`);
    expect(comments[0]).toContain("This link opens it without signing in until it ends: http://shop-pr-7.demo.example.org/__demo/access/share/token2");
  });

  it("asks for a gated repository before it carries a link", () => {
    expect(problemsOf("github:\n  webhookSecrets: [0123456789abcdef]\n  repos:\n    acme/shop: { port: 80, shareInComment: 3d }\n")).toEqual([
      'github.repos.acme/shop.shareInComment: "3d" applies to a gated preview only: give the repository access: signin or password (a public preview\'s address is all a reviewer needs)',
    ]);
  });
});

describe("the share link of a pull request's comment", () => {
  it("is made for a gated preview of a repository that asks for it, and the previous comment's link is revoked", async () => {
    const { commentShareLink } = await import("../../src/app/access.js");
    const scheduler = new ManualScheduler(0);
    const preview = demo({ id: "shop-pr-7", app: "shop", host: "shop-pr-7.demo.example.org" });
    let policy: AccessPolicy = { mode: "signin" };
    const desk = new AccessDesk({ store: { load: async () => undefined, save: async () => {} }, scheduler, logger: silentLogger, policyOf: () => policy, demo: () => preview, admins, republish: async () => {} });
    await desk.start();
    const config = { domain: "demo.example.org", publicScheme: "https", publicPort: 443, nginx: { listen: { host: "127.0.0.1", port: 8080 } }, githubRepos: { "acme/shop": { source: "shop", trust: "collaborators", shareInComment: 3 * 86_400_000 }, "acme/blog": { source: "blog", trust: "collaborators" } }, gitlabProjects: {} } as never;
    const engine = { get: (id: string) => (id === preview.id ? preview : undefined) };
    const first = await commentShareLink(config, desk, engine, "shop", "shop-pr-7");
    expect(first).toMatch(/^https:\/\/shop-pr-7\.demo\.example\.org\/__demo\/access\/share\/[A-Za-z0-9_-]{32}$/);
    const second = await commentShareLink(config, desk, engine, "shop", "shop-pr-7");
    expect(desk.shares("shop-pr-7").map((share) => [share.note, share.expiresAt])).toEqual([["the pull request's comment", 3 * 86_400_000]]);
    expect(desk.shareByToken("shop-pr-7", first!.split("/").at(-1)!)).toBeUndefined();
    expect(desk.shareByToken("shop-pr-7", second!.split("/").at(-1)!)).toBeDefined();
    expect(await commentShareLink(config, desk, engine, "blog", "shop-pr-7")).toBeUndefined();
    policy = { mode: "public" };
    expect(await commentShareLink(config, desk, engine, "shop", "shop-pr-7")).toBeUndefined();
  });
});
