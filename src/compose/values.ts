// Compose's small value formats: Go durations (1m30s), byte sizes (512m, 1gb), port specs (127.0.0.1:8080:80/tcp), shell words.

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1m30s", "500ms", "10s") or a bare number of seconds, in milliseconds; undefined when neither. */
export function parseGoDuration(value: unknown): number | undefined {
  if (typeof value === "number") return value >= 0 ? value * 1000 : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== text) return undefined;
  return Math.round(parts.reduce((sum, part) => sum + Number(part[1]) * GO_UNITS_MS[part[2]!]!, 0));
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** A Compose byte size ("512m", "1gb", "2048", 2048) in bytes; undefined when it is not one. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === "number") return value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit !== undefined ? Math.round(Number(match[1]) * unit) : undefined;
}

/**
 * The container ports of one `ports` entry: "80", "8080:80", "127.0.0.1:8080:80/tcp", "3000-3001", or the long form
 * { target, published }. UDP ports are left out (nginx routes HTTP). Undefined when the entry is not a port spec.
 */
export function containerPortsOf(entry: unknown): number[] | undefined {
  if (typeof entry === "number") return Number.isInteger(entry) && entry > 0 && entry < 65536 ? [entry] : undefined;
  if (entry !== null && typeof entry === "object") {
    const long = entry as { target?: unknown; protocol?: unknown };
    if (long.protocol !== undefined && long.protocol !== "tcp") return [];
    const target = typeof long.target === "string" ? Number(long.target) : long.target;
    return typeof target === "number" && Number.isInteger(target) && target > 0 && target < 65536 ? [target] : undefined;
  }
  if (typeof entry !== "string") return undefined;
  const [spec, protocol = "tcp"] = entry.trim().split("/");
  if (protocol !== "tcp") return [];
  // The container side is last; an IPv6 host address is bracketed, so splitting on ":" leaves it whole enough.
  const container = spec!.split(":").at(-1)!;
  const range = /^(\d+)(?:-(\d+))?$/.exec(container);
  if (!range) return undefined;
  const from = Number(range[1]);
  const to = range[2] === undefined ? from : Number(range[2]);
  if (from < 1 || to > 65535 || to < from || to - from > 100) return undefined;
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/** Splits a command line the way a POSIX shell splits words (quotes and backslashes), as Compose does for `command: "…"`. */
export function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (char === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return undefined;
      word += line.slice(i + 1, close);
      i = close;
      inWord = true;
    } else if (char === '"') {
      let close = i + 1;
      for (; close < line.length && line[close] !== '"'; close += 1) {
        if (line[close] === "\\" && close + 1 < line.length && '"\\$`'.includes(line[close + 1]!)) close += 1;
        word += line[close];
      }
      if (close >= line.length) return undefined;
      i = close;
      inWord = true;
    } else if (char === "\\") {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
