// Which of an environment's running services a new instance of the same demo keeps (a replacement, a preview's push) and which it starts anew.

/** A service of the demo's current instance as Docker runs it. */
export interface RunningService {
  service: string;
  /** What it was created from (image id, command, environment, limits, copied files), hashed by the runtime. */
  fingerprint: string;
  /** The container's name: the new instance's routed container lists the members it uses by name. */
  containerName: string;
  /** Running, or a one-shot job that finished with 0 (a migration): either can be used as it is. */
  usable: boolean;
}

/** A service of the new instance. */
export interface WantedService {
  name: string;
  fingerprint: string;
  /** Holds a named volume (a database): two containers on one volume could corrupt it, so it never runs twice at once. */
  stateful: boolean;
  routed: boolean;
  dependsOn: Array<{ service: string }>;
}

export interface KeepPlan {
  /** Services kept as they run, by name. */
  keep: Map<string, RunningService>;
  /** Stateful services started anew: their running container is stopped first (and started again if the new instance fails). */
  stopFirst: Map<string, RunningService>;
}

/**
 * Keeps a member whose fingerprint is unchanged and still usable: a database's container and rows stay as they are
 * across a replacement or a preview's push. The routed service always starts anew: its switch is the zero-downtime
 * step, and its DEMO_* values (the commit a preview serves) are new. A member that depends on a service started anew
 * starts anew too, so it connects to the new one. A changed stateful member is stopped before its new container
 * starts (as Compose does): its volume is never in two containers at once. `services` is in start order.
 */
export function planKeeps(services: WantedService[], running: RunningService[]): KeepPlan {
  const current = new Map<string, RunningService>();
  for (const member of running) if (!current.has(member.service)) current.set(member.service, member);
  const keep = new Map<string, RunningService>();
  const stopFirst = new Map<string, RunningService>();
  const names = new Set(services.map((service) => service.name));
  for (const service of services) {
    const member = current.get(service.name);
    if (service.routed || !member) continue;
    const dependencyRenewed = service.dependsOn.some((dependency) => names.has(dependency.service) && !keep.has(dependency.service));
    if (member.usable && member.fingerprint === service.fingerprint && !dependencyRenewed) keep.set(service.name, member);
    else if (service.stateful) stopFirst.set(service.name, member);
  }
  return { keep, stopFirst };
}
