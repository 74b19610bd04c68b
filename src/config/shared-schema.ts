// The config of shared demos (shared.<name>): one long-lived demo of an app at a fixed host, with replicas and a reset schedule.
import { CronTime, validateCronExpression } from "cron";
import { z } from "zod";
import { accessSchema } from "./access-schema.js";
import { ownHostName } from "./fields.js";

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
  hosts: z.array(ownHostName, { error: "must be a list of DNS names" }).max(20, "must list at most 20 names").default([]),
}, { error: "must be a map with app and optionally replicas, reset, timeZone, source, access and hosts" });
