// GitHub signs each delivery: X-Hub-Signature-256 is `sha256=<hex>` of an HMAC over the raw bytes with the webhook
// secret. Any configured secret may match (rotation).
import { verify } from "@octokit/webhooks-methods";

export function githubSignatureCheck(secrets: string[]): (raw: Buffer, signature: string | undefined) => Promise<boolean> {
  return async (raw, signature) => {
    if (!signature || !/^sha256=[0-9a-f]{64}$/.test(signature)) return false;
    const text = raw.toString("utf8");
    for (const secret of secrets) {
      if (await verify(secret, text, signature).catch(() => false)) return true;
    }
    return false;
  };
}
