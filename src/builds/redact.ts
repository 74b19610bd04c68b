// Keeps secrets out of build logs: passwords and tokens in URLs, and the configured secrets wherever they appear.

/** The text with `user:password@` of URLs and every given secret (of 4 characters or more) masked. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let masked = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, "$1***@").replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]{20,})@/gi, "$1***@");
  // Longest first: a secret that contains another is masked whole.
  for (const secret of [...secrets].filter((value) => value.length >= 4).sort((a, b) => b.length - a.length)) masked = masked.split(secret).join("***");
  return masked;
}
