// Checks a Compose document against the official Compose specification schema (vendored), in words close to Compose's own.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { PACKAGE_ROOT } from "../nginx/render.js";

export const COMPOSE_SPEC_SCHEMA = path.join(PACKAGE_ROOT, "vendor", "compose-spec", "compose-spec.json");

let validate: ValidateFunction | undefined;

/** Compiled on first use: a controller whose config names no Compose file never reads the 75 kB schema. */
function validator(): ValidateFunction {
  if (!validate) {
    const { $schema: _draft07, ...schema } = JSON.parse(readFileSync(COMPOSE_SPEC_SCHEMA, "utf8")) as Record<string, unknown>;
    // It is draft-07 (Ajv's default) but names it by an https URL Ajv does not know; it carries annotations
    // ("deprecated") that strict mode would refuse.
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    validate = ajv.compile(schema);
  }
  return validate;
}

/** Every way the document is not valid Compose, one line each, with the path (services.web.ports[0]). */
export function specProblems(document: unknown): string[] {
  const check = validator();
  if (check(document)) return [];
  return wordErrors(check.errors ?? []);
}

function pathOf(instancePath: string): string {
  const parts = instancePath.split("/").slice(1).map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  return parts.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), "");
}

/**
 * Ajv reports every branch of a oneOf that failed; a person needs the one that says what is wrong. Kept: for each
 * place, the most specific errors (an unknown key, a missing key, a wrong value); the "must match one of" summaries
 * only where nothing more specific was said at or below that place.
 */
function wordErrors(errors: ErrorObject[]): string[] {
  const specific = errors.filter((error) => !["oneOf", "anyOf", "if", "then", "not"].includes(error.keyword));
  const lines = new Set<string>();
  for (const error of specific) {
    const where = pathOf(error.instancePath) || "(the file)";
    switch (error.keyword) {
      case "additionalProperties":
        lines.add(`${where}: ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)} is not a Compose key here`);
        break;
      case "required":
        lines.add(`${where}: ${JSON.stringify((error.params as { missingProperty: string }).missingProperty)} is required`);
        break;
      case "enum":
        lines.add(`${where}: must be one of ${((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map((value) => JSON.stringify(value)).join(", ")}`);
        break;
      case "type": {
        // A value that is one type in one branch and another in the next: say each only once, together.
        const sameWhere = specific.filter((other) => other.keyword === "type" && other.instancePath === error.instancePath).map((other) => String((other.params as { type: string }).type));
        lines.add(`${where}: must be ${[...new Set(sameWhere.flatMap((type) => type.split(",")))].join(" or ")}`);
        break;
      }
      default:
        lines.add(`${where}: ${error.message ?? error.keyword}`);
    }
  }
  for (const error of errors) {
    if (!["oneOf", "anyOf"].includes(error.keyword)) continue;
    const covered = specific.some((other) => other.instancePath.startsWith(error.instancePath));
    if (!covered) lines.add(`${pathOf(error.instancePath) || "(the file)"}: is not any of the forms Compose allows here`);
  }
  // Branch noise: a key flagged as unknown in one oneOf branch but whose path has a type error in another.
  return pruneBranchNoise([...lines]);
}

/** When a place has a "must be …" line, the unknown-key lines of other branches at that same place are noise. */
function pruneBranchNoise(lines: string[]): string[] {
  const typed = new Set(lines.filter((line) => line.includes(": must be ")).map((line) => line.slice(0, line.indexOf(": "))));
  return lines.filter((line) => !(line.endsWith("is not a Compose key here") && typed.has(line.slice(0, line.indexOf(": ")))));
}
