// The config of the Swarm runtime (runtime: swarm, swarm:): the registry every node pulls from, placement, start time.
import { z } from "zod";
import { duration } from "./fields.js";

export const runtimeSchema = z.enum(["docker", "swarm"], { error: "must be one of: docker, swarm" }).default("docker");

export const swarmSchema = z
  .strictObject({
    /** host:port of a registry every node can pull from; images the manager has are pushed there before a launch. */
    registry: z.string({ error: "must be a registry address such as registry.internal:5000" }).regex(/^[a-z0-9.-]+(:\d{1,5})?$/, "must be a registry address such as registry.internal:5000 (host and optional port)").optional(),
    /** Swarm placement constraints for every demo, such as node.labels.demos==yes. */
    constraints: z.array(z.string({ error: "must be a constraint such as node.labels.demos==yes" }).regex(/^[A-Za-z0-9_.\-]+\s*(==|!=)\s*[A-Za-z0-9_.\-]+$/, "must be a constraint such as node.labels.demos==yes or node.role!=manager"), { error: "must be a list of constraints" }).default([]),
    /** How long Swarm may take to place, pull and start a demo before its launch fails with Swarm's reason. */
    startTimeout: duration.prefault("2m"),
    /**
     * The Docker API of the other nodes, for what must run inside a demo's container (a rewind's restore): Swarm's
     * API reaches services, not the containers on other nodes. The manager's own node needs no entry.
     */
    nodes: z
      .array(
        z.strictObject({
          address: z.string({ error: "must be the node's address as Swarm shows it (docker node inspect: Status.Addr)" }).regex(/^[0-9a-fA-F.:]+$/, "must be the node's IP address as Swarm shows it"),
          docker: z.string({ error: "must be unix:///path/docker.sock or tcp://host:2376" }).regex(/^(unix:\/\/\/\S+|tcp:\/\/[A-Za-z0-9.-]+:\d{1,5})$/, "must be unix:///path/docker.sock or tcp://host:2376"),
          /** A directory with ca.pem, cert.pem and key.pem (Docker's TLS client files) for tcp://. */
          certs: z.string({ error: "must be a directory path" }).min(1).optional(),
        }, { error: "must be a map with address, docker and optionally certs" }),
        { error: "must be a list of nodes" },
      )
      .default([]),
  }, { error: "must be a map with registry, constraints, startTimeout and nodes" })
  .prefault({});
