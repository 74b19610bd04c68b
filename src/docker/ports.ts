// Chooses candidate host ports for demo containers from the configured range; Docker's bind is the real reservation.
export interface PortRange {
  from: number;
  to: number;
}

/**
 * Returns a random port in range that no known demo holds, or undefined when all are taken.
 * This is only a guess: the bind itself decides, and a conflict makes the caller try again.
 */
export function pickCandidatePort(range: PortRange, taken: ReadonlySet<number>, random: () => number = Math.random): number | undefined {
  const size = range.to - range.from + 1;
  if (taken.size >= size) return undefined;
  // Random probing stays fast while the range is mostly free; a linear scan finishes the job when it is not.
  for (let attempt = 0; attempt < 32; attempt += 1) {
    const port = range.from + Math.floor(random() * size);
    if (!taken.has(port)) return port;
  }
  const start = Math.floor(random() * size);
  for (let offset = 0; offset < size; offset += 1) {
    const port = range.from + ((start + offset) % size);
    if (!taken.has(port)) return port;
  }
  return undefined;
}

/** `count` different free ports, or undefined when the range has fewer left. */
export function pickCandidatePorts(range: PortRange, taken: ReadonlySet<number>, count: number): number[] | undefined {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = pickCandidatePort(range, new Set([...taken, ...ports]));
    if (port === undefined) return undefined;
    ports.push(port);
  }
  return ports;
}
