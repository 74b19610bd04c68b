// Compose variable interpolation: every form the specification defines, the errors it names, and .env files.
import { describe, expect, it } from "vitest";
import { parseDotenv, DotenvError } from "../../src/compose/dotenv.js";
import { interpolate, interpolateTree, InterpolationError } from "../../src/compose/interpolate.js";
import { containerPortsOf, parseByteSize, parseGoDuration, shellWords } from "../../src/compose/values.js";

const vars: Record<string, string> = { SET: "value", EMPTY: "", FOO: "foo", NESTED: "${SET}" };
const lookup = (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
const run = (text: string) => interpolate(text, lookup, "services.web.image").value;

describe("Compose interpolation", () => {
  it.each([
    ["$SET", "value"],
    ["${SET}", "value"],
    ["pre-${SET}-post", "pre-value-post"],
    ["$SET.suffix", "value.suffix"],
    ["${UNSET:-default}", "default"],
    ["${EMPTY:-default}", "default"],
    ["${EMPTY-default}", ""],
    ["${UNSET-default}", "default"],
    ["${SET:-default}", "value"],
    ["${SET:+alternative}", "alternative"],
    ["${EMPTY:+alternative}", ""],
    ["${EMPTY+alternative}", "alternative"],
    ["${UNSET+alternative}", ""],
    ["${UNSET:-${FOO}}", "foo"],
    ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
    ["${SET?must be set}", "value"],
    ["$$SET", "$SET"],
    ["$${SET}", "${SET}"],
    ["cost: 5$", "cost: 5$"],
    ["$1 and $-", "$1 and $-"],
    ["${UNSET:-a}b}", "ab}"],
    // A value is used as it is: what it holds is not interpolated again.
    ["${NESTED}", "${SET}"],
    ["${UNSET:-with spaces and : colons}", "with spaces and : colons"],
  ])("%s → %s", (text, expected) => {
    expect(run(text)).toBe(expected);
  });

  it("substitutes an empty string for an unset variable without a default, and says which", () => {
    const result = interpolate("a${UNSET}b$ALSO", lookup, "x");
    expect(result).toEqual({ value: "ab", unset: ["UNSET", "ALSO"] });
    // A default's own unset variables count only when the default is used.
    expect(interpolate("${SET:-$GHOST}", lookup, "x").unset).toEqual([]);
    expect(interpolate("${UNSET:-$GHOST}", lookup, "x").unset).toEqual(["GHOST"]);
  });

  it("names the path and the variable when a required one is missing", () => {
    expect(() => run("${UNSET:?the registry is needed}")).toThrow(new InterpolationError("services.web.image", "required variable UNSET is missing a value: the registry is needed"));
    expect(() => run("${EMPTY:?}")).toThrow("services.web.image: required variable EMPTY is missing a value");
    expect(run("${EMPTY?}")).toBe("");
    expect(() => run("${UNSET?}")).toThrow("required variable UNSET is missing a value");
  });

  it.each(["${", "${SET", "${}", "${ SET}", "${SET/foo/bar}", "${SET:-unclosed", "${1}"])("refuses %s as an invalid format, saying to write $$", (text) => {
    expect(() => run(text)).toThrow(/services\.web\.image: invalid interpolation format .* \(write a literal \$ as \$\$\)/);
  });

  it("interpolates values, never keys, and names list items by index", () => {
    const document = { services: { web: { image: "app:${FOO}", environment: { "${FOO}": "${SET}" }, ports: ["${UNSET:-8080}:80"] } } };
    expect(interpolateTree(document, lookup).value).toEqual({ services: { web: { image: "app:foo", environment: { "${FOO}": "value" }, ports: ["8080:80"] } } });
    expect(() => interpolateTree({ services: { web: { ports: ["${BAD"] } } }, lookup)).toThrow("services.web.ports[0]: invalid interpolation format");
  });
});

describe(".env files", () => {
  it("reads KEY=VALUE lines with comments, export, quotes and interpolation", () => {
    const text = [
      "# a comment",
      "",
      "PLAIN=one",
      "export EXPORTED=two",
      "SPACED = three  # a comment after a value",
      "HASH=a#b",
      "SINGLE='${PLAIN} stays $literal'",
      'DOUBLE="line\\nnext ${PLAIN}"',
      'MULTI="first',
      'second"',
      "FROM_OUTER=${OUTER}",
      "BARE_FROM_OUTER",
      "BARE_UNSET",
      "EMPTY=",
    ].join("\n");
    expect(parseDotenv(text, ".env", (name) => ({ OUTER: "outside", BARE_FROM_OUTER: "given" })[name])).toEqual({
      PLAIN: "one",
      EXPORTED: "two",
      SPACED: "three",
      HASH: "a#b",
      SINGLE: "${PLAIN} stays $literal",
      DOUBLE: "line\nnext one",
      MULTI: "first\nsecond",
      FROM_OUTER: "outside",
      BARE_FROM_OUTER: "given",
      EMPTY: "",
    });
  });

  it("names the file and line of what it cannot read", () => {
    expect(() => parseDotenv("GOOD=1\nnot a line\n", "app.env")).toThrow(new DotenvError("app.env", 2, 'expected KEY=VALUE, found "not a line"'));
    expect(() => parseDotenv('OPEN="never closed\n', "app.env")).toThrow('app.env, line 1: the value of OPEN has no closing "');
  });
});

describe("Compose value formats", () => {
  it("reads Go durations, byte sizes, port specs and shell words as Compose does", () => {
    expect([parseGoDuration("1m30s"), parseGoDuration("500ms"), parseGoDuration("10s"), parseGoDuration(3), parseGoDuration("ten"), parseGoDuration("1x")]).toEqual([90_000, 500, 10_000, 3000, undefined, undefined]);
    expect([parseByteSize("512m"), parseByteSize("1gb"), parseByteSize("2048"), parseByteSize(100), parseByteSize("1 tb")]).toEqual([512 * 1024 ** 2, 1024 ** 3, 2048, 100, undefined]);
    expect([containerPortsOf("80"), containerPortsOf("8080:80"), containerPortsOf("127.0.0.1:8080:80/tcp"), containerPortsOf("3000-3002"), containerPortsOf("53:53/udp"), containerPortsOf({ target: 80, published: "8080" }), containerPortsOf(8080), containerPortsOf("web")]).toEqual([[80], [80], [80], [3000, 3001, 3002], [], [80], [8080], undefined]);
    expect(shellWords(`sh -c 'echo "hi there"' "a b" c\\ d`)).toEqual(["sh", "-c", 'echo "hi there"', "a b", "c d"]);
    expect(shellWords(`echo 'open`)).toBeUndefined();
  });
});
