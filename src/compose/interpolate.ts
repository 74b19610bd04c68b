// Compose variable interpolation exactly as the Compose specification defines it: $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+a}, ${V+a}, $$ and nesting.
const NAME_START = /[_a-zA-Z]/;
const NAME_PART = /[_a-zA-Z0-9]/;
const OPERATORS = [":-", ":?", ":+", "-", "?", "+"] as const;
type Operator = (typeof OPERATORS)[number];

/** A value that cannot be interpolated: where it is (a path such as services.web.image) and why. */
export class InterpolationError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = "InterpolationError";
  }
}

export type VariableLookup = (name: string) => string | undefined;

export interface Interpolated {
  value: string;
  /** Variables used with neither a value nor a default: Compose substitutes "" and warns, so do we. */
  unset: string[];
}

/** Interpolates one string; `path` names it in errors. */
export function interpolate(text: string, lookup: VariableLookup, path: string): Interpolated {
  const unset: string[] = [];
  const [value] = expand(text, 0, false, lookup, path, unset);
  return { value, unset: [...new Set(unset)] };
}

/** Expands from `start` to the end (or, inside braces, to the closing `}`); returns the text and where it stopped. */
function expand(text: string, start: number, inBraces: boolean, lookup: VariableLookup, path: string, unset: string[]): [string, number] {
  let out = "";
  let i = start;
  while (i < text.length) {
    const char = text[i]!;
    if (inBraces && char === "}") return [out, i];
    if (char !== "$") {
      out += char;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "{") {
      const [value, end] = braced(text, i, lookup, path, unset);
      out += value;
      i = end;
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = i + 2;
      while (end < text.length && NAME_PART.test(text[end]!)) end += 1;
      const name = text.slice(i + 1, end);
      out += valueOf(name, lookup, unset);
      i = end;
    } else {
      // "Compose will process any string following a $ sign as long as it makes it a valid variable definition …
      // In other circumstances, it will be preserved" (a lone $, $1, $-).
      out += "$";
      i += 1;
    }
  }
  if (inBraces) throw invalid(text, start, path);
  return [out, i];
}

/** `${…}` starting at `dollar`; returns its value and the index after its closing brace. */
function braced(text: string, dollar: number, lookup: VariableLookup, path: string, unset: string[]): [string, number] {
  let end = dollar + 2;
  if (!NAME_START.test(text[end] ?? "")) throw invalid(text, dollar, path);
  while (end < text.length && NAME_PART.test(text[end]!)) end += 1;
  const name = text.slice(dollar + 2, end);
  if (text[end] === "}") return [valueOf(name, lookup, unset), end + 1];
  const operator = OPERATORS.find((candidate) => text.startsWith(candidate, end));
  if (!operator) throw invalid(text, dollar, path);
  // The argument is expanded on its own, so its unset variables count only when it is used.
  const argumentUnset: string[] = [];
  const [argument, close] = expand(text, end + operator.length, true, lookup, path, argumentUnset);
  if (text[close] !== "}") throw invalid(text, dollar, path);
  const value = lookup(name);
  const useArgument = () => {
    unset.push(...argumentUnset);
    return argument;
  };
  return [apply(operator, name, value, useArgument, path), close + 1];
}

function apply(operator: Operator, name: string, value: string | undefined, argument: () => string, path: string): string {
  const empty = value === undefined || value === "";
  switch (operator) {
    case ":-":
      return empty ? argument() : value;
    case "-":
      return value === undefined ? argument() : value;
    case ":?":
      if (empty) throw new InterpolationError(path, `required variable ${name} is missing a value${requiredDetail(argument())}`);
      return value;
    case "?":
      if (value === undefined) throw new InterpolationError(path, `required variable ${name} is missing a value${requiredDetail(argument())}`);
      return value;
    case ":+":
      return empty ? "" : argument();
    case "+":
      return value === undefined ? "" : argument();
  }
}

function requiredDetail(message: string): string {
  return message ? `: ${message}` : "";
}

function valueOf(name: string, lookup: VariableLookup, unset: string[]): string {
  const value = lookup(name);
  if (value === undefined) unset.push(name);
  return value ?? "";
}

function invalid(text: string, at: number, path: string): InterpolationError {
  return new InterpolationError(path, `invalid interpolation format ${JSON.stringify(text.slice(at))} (write a literal $ as $$)`);
}

export interface TreeInterpolation {
  value: unknown;
  unset: string[];
}

/**
 * Interpolates every string value of a parsed Compose document (never a key: "Interpolation applies only to YAML
 * values, not to keys"). Paths read like services.web.environment.APP_URL and services.web.ports[0].
 */
export function interpolateTree(document: unknown, lookup: VariableLookup): TreeInterpolation {
  const unset = new Set<string>();
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === "string") {
      const result = interpolate(value, lookup, path || "(the file)");
      for (const name of result.unset) unset.add(name);
      return result.value;
    }
    if (Array.isArray(value)) return value.map((item, index) => walk(item, `${path}[${index}]`));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = walk(item, path ? `${path}.${key}` : key);
      return out;
    }
    return value;
  };
  const value = walk(document, "");
  return { value, unset: [...unset] };
}
