// A real OpenID Connect provider for tests (oidc-provider, its own login and consent pages) on 127.0.0.1.
import type { Server } from "node:http";
import type { Page } from "playwright-core";
import Provider from "oidc-provider";
import { freePort } from "./stack.js";

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/** The port comes first: the console's config names the issuer before the console's own address is known. */
export async function startOidcProvider(options: { port?: number; redirectUri: string | string[]; accounts: Record<string, { email: string; groups?: string[] }> }): Promise<TestProvider> {
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "demo-launcher-console";
  const clientSecret = "console-client-secret-for-tests-only";
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [options.redirectUri].flat(), response_types: ["code"], grant_types: ["authorization_code"] }],
    async findAccount(_ctx, id) {
      const account = options.accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: account.email, email_verified: true, groups: account.groups ?? [] }) };
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["groups"] },
    // Its built-in login page takes any password: the account name picks who signs in.
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ["oidc-provider-test-cookie-key"] },
  });
  const server: Server = provider.listen(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  return {
    issuer,
    clientId,
    clientSecret,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** From a page showing "Sign in with …": through the provider's own login and consent pages, as a person would. */
export async function signInThroughProvider(page: Page, provider: TestProvider, account: string): Promise<void> {
  await page.getByRole("link", { name: /^Sign in with/ }).click();
  await page.waitForURL((url) => url.origin === provider.issuer);
  await page.fill('input[name="login"]', account);
  await page.fill('input[name="password"]', "any password");
  await page.click('button[type="submit"]');
  // The provider asks for consent once per account and client.
  if (new URL(page.url()).origin === provider.issuer) await page.click('button[type="submit"]');
}
