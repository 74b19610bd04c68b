// The config of shared demos (shared.<name>): one long-lived demo of an app at a fixed host, with replicas and a reset schedule.
import { CronTime, validateCronExpression } from "cron";
import { z } from "zod";
import { accessSchema } from "./access-schema.js";
import { DOMAIN_PATTERN } from "./fields.js";

/** 3 to 40 characters: the host's first label, as every demo id. */
export const SHARED_NAME = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

const cronExpression = z.string({ error: "must be a cron expression such as \"0 3 * * *\" (minute hour day month weekday)" }).superRefine((text, ctx) => {
  const { valid, error } = validateCronExpression(text);
  if (!valid) ctx.addIssue({ code: "custom", message: `must be a cron expression such as "0 3 * * *" (minute hour day month weekday, optionally seconds first): ${error?.message ?? "not valid"}` });
});

const timeZone = z.string({ error: "must be an IANA time zone such as UTC or Europe/Berlin" }).superRefine((zone, ctx) => {
  try {
    new CronTime("0 0 * * *", zone);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an IANA time zone such as UTC or Europe/Berlin" });
  }
});

export const sharedSchema = z.strictObject({
  app: z.string({ error: "must be the name of an app under apps" }),
  replicas: z.number({ error: "must be a whole number of replicas from 1 to 20" }).int("must be a whole number from 1 to 20").min(1, "must be at least 1").max(20, "must be at most 20").default(1),
  reset: cronExpression.optional(),
  timeZone: timeZone.default("UTC"),
  /** The state source of its app it is reset to; the app's default source when unset. */
  source: z.string({ error: "must be the name of one of the app's state sources" }).optional(),
  /** Who may open it; its app's access (but owner, which has no meaning here) otherwise. */
  access: accessSchema.optional(),
  /** Names of its own (shop.example.org) beside <name>.<domain>: routed to it, with a certificate by HTTP-01 under tls.acme. */
  hosts: z.array(z.string({ error: "must be a DNS name such as shop.example.org" }).toLowerCase().regex(DOMAIN_PATTERN, "must be a DNS name such as shop.example.org").refine((host) => host.includes("."), { message: "must be a DNS name with a dot, such as shop.example.org" }), { error: "must be a list of DNS names" }).max(20, "must list at most 20 names").default([]),
}, { error: "must be a map with app and optionally replicas, reset, timeZone, source, access and hosts" });

/** The shared demos' own names that cannot be: under the domain (a demo's host already), the console's, or twice. */
export function sharedHostProblems(config: { domain: string; admin: { host?: string | undefined }; apps: Record<string, { access?: { mode: string } | undefined }>; shared: Record<string, { app: string; hosts: string[]; access?: { mode: string } | undefined }> }): Array<{ path: (string | number)[]; message: string }> {
  const problems: Array<{ path: (string | number)[]; message: string }> = [];
  const owner = new Map<string, string>();
  for (const [name, shared] of Object.entries(config.shared)) {
    // A gate's sign-in and cookies live on the domain: a name outside it could not carry them.
    const mode = shared.access?.mode ?? (Object.hasOwn(config.apps, shared.app) ? config.apps[shared.app]!.access?.mode : undefined) ?? "public";
    if (shared.hosts.length > 0 && mode !== "public") problems.push({ path: ["shared", name, "hosts"], message: `must be empty while the demo's access is ${mode}: names of its own serve public demos only (sign-in and its cookies belong to ${config.domain})` });
    shared.hosts.forEach((host, index) => {
      const path = ["shared", name, "hosts", index];
      if (host === config.domain || host.endsWith(`.${config.domain}`)) problems.push({ path, message: `must be outside ${config.domain}: names under it are demos' hosts (this one is ${name}.${config.domain})` });
      else if (host === config.admin.host) problems.push({ path, message: "is the console's host (admin.host)" });
      else if (owner.has(host)) problems.push({ path, message: `is already a name of shared demo ${owner.get(host)}` });
      else owner.set(host, name);
    });
  }
  return problems;
}

export type SharedConfig = z.output<typeof sharedSchema>;
