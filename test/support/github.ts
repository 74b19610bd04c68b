// GitHub deliveries for tests: recorded payloads from @octokit/webhooks-examples, rewritten to point at local
// commits, signed like GitHub signs them, and sent through nginx.
import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";
import { request, type Answer } from "./stack.js";

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples") as Array<{ name: string; examples: Array<Record<string, unknown>> }>;

export const EXAMPLE_REPO = "Codertocat/Hello-World";

/** A recorded payload of this event and action (the first one), deep-copied. */
export function recorded(event: string, action?: string): Record<string, any> {
  const found = examples.find((entry) => entry.name === event)?.examples.find((example) => action === undefined || example.action === action);
  if (!found) throw new Error(`no recorded ${event} ${action ?? ""} payload`);
  return structuredClone(found) as Record<string, any>;
}

/** A recorded pull_request payload for pull request `pr` at `commit`, updated at `updatedAt`. */
export function pullRequestPayload(action: string, pr: number, commit: string, updatedAt: Date, options: { fork?: boolean; labels?: string[]; author?: string; repo?: string } = {}): Record<string, any> {
  const payload = recorded("pull_request", action === "synchronize" || action === "closed" || action === "reopened" ? action : "opened");
  payload.number = pr;
  payload.pull_request.number = pr;
  payload.pull_request.head.sha = commit;
  payload.pull_request.updated_at = updatedAt.toISOString();
  payload.pull_request.labels = (options.labels ?? []).map((name) => ({ name }));
  if (options.author) payload.pull_request.user = { ...payload.pull_request.user, login: options.author };
  if (options.repo) {
    payload.repository = { ...payload.repository, full_name: options.repo };
    payload.pull_request.head.repo = { ...payload.pull_request.head.repo, full_name: options.repo };
  }
  if (options.fork) payload.pull_request.head.repo = { ...payload.pull_request.head.repo, full_name: "someone-else/Hello-World" };
  return payload;
}

let deliveries = 0;

/** Sends a delivery the way GitHub does (JSON, signed with `secret`), through nginx to the apex. */
export async function deliver(port: number, event: string, payload: unknown, secret: string, options: { id?: string; body?: string | Buffer; signature?: string; headers?: Record<string, string> } = {}): Promise<Answer & { id: string }> {
  const body = options.body ?? JSON.stringify(payload);
  const id = options.id ?? `test-${process.pid}-${(deliveries += 1)}-${Math.random().toString(36).slice(2, 8)}`;
  const signature = options.signature ?? (await sign(secret, Buffer.isBuffer(body) ? body.toString("utf8") : body));
  const answer = await request(port, {
    host: "demo.localhost",
    path: "/hooks/github",
    method: "POST",
    body: Buffer.isBuffer(body) ? body.toString("utf8") : body,
    headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": signature, ...options.headers },
  });
  return { ...answer, id };
}

let comments = 9000;

/** A recorded issue_comment payload, made a comment on pull request `pr` by `user` with this body (a new id each). */
export function commentPayload(pr: number, body: string, options: { user?: string; author?: string; action?: string; id?: number; repo?: string } = {}): Record<string, any> {
  const payload = recorded("issue_comment", options.action ?? "created");
  payload.issue.number = pr;
  payload.issue.pull_request = { url: `https://api.github.com/repos/${EXAMPLE_REPO}/pulls/${pr}` };
  payload.issue.user = { ...payload.issue.user, login: options.author ?? "Codertocat" };
  payload.comment = { ...payload.comment, id: options.id ?? (comments += 1), body, user: { ...payload.comment.user, login: options.user ?? "Codertocat" } };
  if (options.repo) payload.repository = { ...payload.repository, full_name: options.repo };
  return payload;
}
