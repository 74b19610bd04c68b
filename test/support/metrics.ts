// Reading Prometheus' text format in tests: the value of the first sample line that matches.
export function sample(text: string, line: RegExp): number | undefined {
  const match = text.split("\n").find((candidate) => line.test(candidate));
  return match === undefined ? undefined : Number(match.split(" ").at(-1));
}
