// The bridge network single-container demos (and builds) share, with inter-container traffic off.
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { statusCode } from "./engine-api.js";

/** Creates a bridge network with inter-container traffic off (demos', or builds' own), unless it is there. */
export async function ensureBridgeNetwork(docker: Docker, name: string): Promise<void> {
  const existing = await docker.listNetworks({ filters: { name: [name] } });
  if (existing.some((network) => network.Name === name)) return;
  try {
    await docker.createNetwork({
      Name: name,
      Driver: "bridge",
      CheckDuplicate: true,
      Options: { "com.docker.network.bridge.enable_icc": "false" },
      Labels: { [`${LABEL_PREFIX}network`]: "true" },
    });
  } catch (error) {
    // Another controller (or test) may have created it at the same moment.
    if (statusCode(error) !== 409) throw error;
  }
}
