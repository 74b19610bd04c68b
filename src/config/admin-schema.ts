// The config of the operator's console (admin:): its host, how long a session lasts, and OpenID Connect sign-in.
import { z } from "zod";
import { DOMAIN_PATTERN, duration } from "./fields.js";

/** Plain http is accepted only for a provider on this machine (a test or a local Keycloak); anything else needs TLS. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const issuer = z.url({ error: "must be the provider's issuer URL such as https://accounts.example.org" }).superRefine((text, ctx) => {
  const url = new URL(text);
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return;
  ctx.addIssue({ code: "custom", message: "must use https (plain http is accepted only for a provider on this machine)" });
});

const oidcSchema = z
  .strictObject({
    issuer,
    clientId: z.string({ error: "must be the client id the provider gave this console" }).min(1, "must not be empty"),
    /** Also from DEMO_LAUNCHER_OIDC_CLIENT_SECRET, so the secret need not sit in the file. */
    clientSecret: z.string({ error: "must be the client secret the provider gave this console" }).min(1, "must not be empty").optional(),
    allowedEmails: z.array(z.email({ error: "must be an e-mail address" }).toLowerCase(), { error: "must be a list of e-mail addresses" }).default([]),
    allowedGroups: z.array(z.string({ error: "must be a group name" }).min(1, "must not be empty"), { error: "must be a list of group names" }).default([]),
    /** The ID token claim that lists the person's groups (Keycloak, Dex and Authentik use "groups"). */
    groupsClaim: z.string({ error: "must be a claim name" }).regex(/^[A-Za-z0-9_:.\/-]{1,100}$/, "must be a claim name such as groups").default("groups"),
  }, { error: "must be a map with issuer, clientId, clientSecret, allowedEmails and allowedGroups" })
  .refine((oidc) => oidc.allowedEmails.length + oidc.allowedGroups.length > 0, { message: "must allow someone: list allowedEmails or allowedGroups (a provider alone lets every account of it in)" });

export const adminSchema = z
  .strictObject({
    /** Serve the console on this host only (outside the demos' domain, so no demo shares its cookies); the apex otherwise. */
    host: z.string({ error: "must be a DNS name such as admin.example.org" }).toLowerCase().regex(DOMAIN_PATTERN, "must be a DNS name such as admin.example.org").optional(),
    session: duration.prefault("8h").refine((ms) => ms >= 1000 && ms <= 7 * 86_400_000, { message: "must be from 1s to 7d" }),
    oidc: oidcSchema.optional(),
  }, { error: "must be a map with host, session and oidc" })
  .prefault({});

export type AdminConfig = z.output<typeof adminSchema>;
export type OidcConfig = NonNullable<AdminConfig["oidc"]>;
