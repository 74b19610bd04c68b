// GitLab does not sign deliveries: it sends the webhook's secret token as X-Gitlab-Token. It is compared with every
// configured secret (rotation) in constant time: digests of equal length, each compared whole, none skipped.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function gitlabTokenCheck(secrets: string[]): (raw: Buffer, token: string | undefined) => Promise<boolean> {
  const expected = secrets.map(digest);
  return async (_raw, token) => {
    if (!token || token.length > 1024) return false;
    const given = digest(token);
    let matched = false;
    for (const secret of expected) matched = timingSafeEqual(secret, given) || matched;
    return matched;
  };
}
