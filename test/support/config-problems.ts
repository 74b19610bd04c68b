// A config the controller must refuse, and each of its problems as a line: key, value and what is allowed.
import { expect } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/schema.js";

export function problemsOf(yaml: string): string[] {
  try {
    parseConfigText(yaml, "test.yaml", "/srv");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.key}: ${problem.message}`);
  }
  throw new Error("expected the config to be refused");
}
