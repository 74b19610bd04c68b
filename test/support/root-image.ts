// The sample app run as root: the worst case for the hostile-tenant tests (an image that never drops to a user).
import { execa } from "execa";

export const ROOT_HELLO = "demo-launcher-test/hello-root:latest";

/** Builds it from the sample image in about a second (no context, one layer of config); idempotent. */
export async function ensureRootHello(): Promise<string> {
  await execa("docker", ["build", "-q", "-t", ROOT_HELLO, "-"], { input: "FROM demo-launcher/hello:latest\nUSER 0:0\n" });
  return ROOT_HELLO;
}
