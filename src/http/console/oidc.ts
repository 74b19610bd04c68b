// Sign-in through an OpenID Connect provider (authorization code with PKCE, state and nonce), with openid-client.
import type * as Client from "openid-client";

// Loaded at the first sign-in: a controller without OIDC never holds the library (RSS at rest).
const loadClient = () => import("openid-client");
import type { OidcConfig } from "../../config/admin-schema.js";
import { describeError } from "../../core/errors.js";
import type { PendingSignIn } from "./session.js";

/** Who the provider says signed in, and whether the config lets them in. */
export interface SignedInPerson {
  subject: string;
  email?: string;
  groups: string[];
  allowed: boolean;
}

export class SignInRefused extends Error {}

export class OidcSignIn {
  private configuration?: Promise<Client.Configuration>;

  constructor(private readonly settings: OidcConfig & { clientSecret?: string }, private readonly redirectUri: string) {}

  get issuerHost(): string {
    return new URL(this.settings.issuer).host;
  }

  /** The provider's address for this sign-in; the pending values go in a signed cookie until it comes back. */
  async authorizationUrl(pending: PendingSignIn): Promise<string> {
    const [client, configuration] = [await loadClient(), await this.discover()];
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: "openid email profile",
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: "S256",
    });
    return url.href;
  }

  /** Checks the callback (state, then the code exchange with the verifier, then the ID token's nonce and signature). */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<SignedInPerson> {
    const [client, configuration] = [await loadClient(), await this.discover()];
    let tokens: Awaited<ReturnType<typeof Client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callbackUrl, { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
    } catch (error) {
      throw new SignInRefused(`the provider's answer did not check out: ${describeError(error)}${failedClaim(error)}`);
    }
    const idToken = tokens.claims();
    if (!idToken) throw new SignInRefused("the provider sent no ID token");
    // Many providers put e-mail and groups only in the userinfo answer (the ID token then names just the subject).
    let claims: Record<string, unknown> = idToken;
    if (idToken.email === undefined || idToken[this.settings.groupsClaim] === undefined) {
      try {
        claims = { ...(await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub)), ...idToken };
      } catch (error) {
        throw new SignInRefused(`the provider's userinfo could not be read: ${describeError(error)}`);
      }
    }
    // An address the provider has not verified proves nothing about who signed in.
    const email = typeof claims.email === "string" && claims.email_verified !== false ? claims.email.toLowerCase() : undefined;
    const rawGroups = claims[this.settings.groupsClaim];
    const groups = Array.isArray(rawGroups) ? rawGroups.filter((group): group is string => typeof group === "string") : [];
    const allowed = (email !== undefined && this.settings.allowedEmails.includes(email)) || groups.some((group) => this.settings.allowedGroups.includes(group));
    return { subject: idToken.sub, ...(email ? { email } : {}), groups, allowed };
  }

  /** Discovery once; a failure is not kept, so the next sign-in asks the provider again. */
  private discover(): Promise<Client.Configuration> {
    this.configuration ??= (async () => {
      const issuer = new URL(this.settings.issuer);
      const client = await loadClient();
      try {
        // The config accepts plain http only for a provider on this machine.
        return await client.discovery(issuer, this.settings.clientId, this.settings.clientSecret, undefined, issuer.protocol === "http:" ? { execute: [client.allowInsecureRequests] } : undefined);
      } catch (error) {
        this.configuration = undefined;
        throw new SignInRefused(`the sign-in provider ${issuer.host} could not be reached: ${describeError(error)}`);
      }
    })();
    return this.configuration;
  }
}

/** openid-client's messages are generic; the claim that failed (nonce, iss, aud, …) sits further down the cause chain. */
function failedClaim(error: unknown): string {
  for (let cause = error as { cause?: unknown; claim?: unknown } | undefined, depth = 0; cause && depth < 5; cause = cause.cause as typeof cause, depth += 1) {
    if (typeof cause.claim === "string") return ` (the ID token's ${cause.claim} is not the one expected)`;
  }
  return "";
}
