// Names close to one that was asked for (a mistyped branch): for "did you mean" lists; pure.

/** Edit distance (insertions, deletions, substitutions), capped early: long names far apart cost little. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Every candidate, closest first: a name containing the asked one (or contained in it) counts as close as a
 * one-letter typo; ties keep alphabetical order. `limit` cuts the list.
 */
export function closeMatches(asked: string, candidates: Iterable<string>, limit = 10): string[] {
  const wanted = asked.toLowerCase();
  const scored = [...new Set(candidates)].map((name) => {
    const lower = name.toLowerCase();
    const contains = wanted.length >= 3 && (lower.includes(wanted) || wanted.includes(lower));
    return { name, score: contains ? Math.min(1, editDistance(wanted, lower)) : editDistance(wanted, lower) };
  });
  scored.sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return scored.slice(0, limit).map((entry) => entry.name);
}
