// Reads `.env` and `env_file` files the way Compose does: KEY=VALUE lines, quotes, comments, `export`, interpolation.
import { interpolate, type VariableLookup } from "./interpolate.js";

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*))?$/;

/** A line a dotenv file cannot hold: which file, which line, why. */
export class DotenvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}, line ${line}: ${detail}`);
    this.name = "DotenvError";
  }
}

/**
 * Parses one dotenv file. Values may use variables set earlier in the file or by `outer` (unquoted and double-quoted
 * values; single quotes are literal). A bare `KEY` takes its value from `outer` and is skipped when it has none.
 */
export function parseDotenv(text: string, file: string, outer: VariableLookup = () => undefined): Record<string, string> {
  const values: Record<string, string> = {};
  const lookup: VariableLookup = (name) => (Object.hasOwn(values, name) ? values[name] : outer(name));
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const raw = lines[index]!;
    if (/^\s*(#|$)/.test(raw)) continue;
    const match = LINE.exec(raw);
    if (!match) throw new DotenvError(file, index + 1, `expected KEY=VALUE, found ${JSON.stringify(raw.trim().slice(0, 60))}`);
    const key = match[1]!;
    if (match[2] === undefined) {
      const fromOuter = outer(key);
      if (fromOuter !== undefined) values[key] = fromOuter;
      continue;
    }
    let rest = match[2];
    const quote = rest[0];
    if (quote === "'" || quote === '"') {
      // A quoted value may span lines, up to its closing quote.
      const startLine = index + 1;
      let body = rest.slice(1);
      let close = closingQuote(body, quote);
      while (close < 0 && index + 1 < lines.length) {
        index += 1;
        body += `\n${lines[index]}`;
        close = closingQuote(body, quote);
      }
      if (close < 0) throw new DotenvError(file, startLine, `the value of ${key} has no closing ${quote}`);
      const inner = body.slice(0, close);
      values[key] = quote === "'" ? inner : interpolate(unescapeDoubleQuoted(inner), lookup, `${file}: ${key}`).value;
      continue;
    }
    // Unquoted: a # after whitespace starts a comment; surrounding spaces go.
    rest = rest.replace(/\s+#.*$/, "").trim();
    values[key] = interpolate(rest, lookup, `${file}: ${key}`).value;
  }
  return values;
}

function closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i += 1) {
    if (quote === '"' && body[i] === "\\") {
      i += 1;
      continue;
    }
    if (body[i] === quote) return i;
  }
  return -1;
}

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\(.)/gs, (_, char: string) => ({ n: "\n", r: "\r", t: "\t" })[char] ?? char);
}
