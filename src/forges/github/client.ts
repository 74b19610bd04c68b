// The GitHub API client: Octokit against `github.apiUrl` (GitHub Enterprise works too), authenticated by a token
// (`github.token` or DEMO_LAUNCHER_GITHUB_TOKEN) or as a GitHub App (a JWT exchanged for an installation token).
import { readFile } from "node:fs/promises";
import { Octokit } from "@octokit/core";
import { createAppAuth } from "@octokit/auth-app";
import type { GithubConfig } from "../../config/github-schema.js";

/** A client, or undefined when no credentials are configured (nothing is reported back then). */
export async function githubClient(config: GithubConfig, env: NodeJS.ProcessEnv = process.env): Promise<Octokit | undefined> {
  const common = { baseUrl: config.apiUrl.replace(/\/+$/, ""), userAgent: "demo-launcher", request: { timeout: 15_000 } };
  if (config.app) {
    const privateKey = await readFile(config.app.privateKey, "utf8");
    return new Octokit({ ...common, authStrategy: createAppAuth, auth: { appId: config.app.id, privateKey, ...(config.app.installationId ? { installationId: config.app.installationId } : {}) } });
  }
  const token = env.DEMO_LAUNCHER_GITHUB_TOKEN ?? config.token;
  return token ? new Octokit({ ...common, auth: token }) : undefined;
}
