// Bad input for the table: hostile HTTP requests (each kind once, then floods) against a real controller
// process behind a real nginx, and bad config files. Counts what was tried and what was answered right.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { BAD_REQUESTS, send, wrongAnswer } from "../support/bad-requests.js";
import { namesKey, refusal, unknownKeyFiles, wrongKindFiles } from "../support/config-fuzz.js";
import { namespaceContainers, startStack } from "../support/stack.js";
import { appYaml } from "./common.js";
import { type Row } from "./report.js";

const FLOOD_ROUNDS = 10;

export async function badInput(log: (line: string) => void): Promise<Row[]> {
  const stack = await startStack({ controller: "child", appsYaml: appYaml("hello") });
  try {
    const routes = () => readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8");
    const routesBefore = await routes();
    const wrong: string[] = [];
    for (const testCase of BAD_REQUESTS) {
      const why = wrongAnswer(testCase, await send(stack.nginxPort, testCase).catch((error: Error) => ({ status: 0, headers: {}, body: error.message })));
      if (why) wrong.push(`${testCase.name}: ${why}`);
    }
    // Floods: every kind again, 50 at a time, FLOOD_ROUNDS times over (the 11 MiB body only once).
    const flood = BAD_REQUESTS.filter((testCase) => (testCase.body?.length ?? 0) < 100_000);
    let flooded = 0;
    let floodWrong = 0;
    let fiveHundreds = 0;
    for (let round = 0; round < FLOOD_ROUNDS; round += 1) {
      for (let start = 0; start < flood.length; start += 50) {
        const batch = flood.slice(start, start + 50);
        const answers = await Promise.all(batch.map((testCase) => send(stack.nginxPort, testCase).catch(() => ({ status: 0, headers: {}, body: "" }))));
        answers.forEach((answer, index) => {
          flooded += 1;
          if (answer.status >= 500 || answer.status === 0) fiveHundreds += 1;
          if (wrongAnswer(batch[index]!, answer)) floodWrong += 1;
        });
      }
    }
    const routesUnchanged = (await routes()) === routesBefore;
    const alive = stack.child!.exitCode === null && (await stack.api("GET", "/healthz")).status === 200;
    const containers = (await namespaceContainers(stack.docker, stack.namespace)).length;
    log(`  ${BAD_REQUESTS.length} kinds once, ${flooded} in floods; ${wrong.length + floodWrong} answered wrongly, ${fiveHundreds} 5xx or no answer`);

    const configFiles = [...wrongKindFiles(), ...unknownKeyFiles()];
    const badConfigs = configFiles.filter((file) => {
      const result = refusal(file.yaml);
      return result === "accepted" || !namesKey(result, file.key);
    });
    const ok = wrong.length === 0 && floodWrong === 0 && fiveHundreds === 0 && routesUnchanged && alive && containers === 0;
    return [
      {
        fault: `bad HTTP requests through nginx (${BAD_REQUESTS.length} kinds, then floods)`,
        injected: BAD_REQUESTS.length + flooded,
        survived: BAD_REQUESTS.length - wrong.length + flooded - floodWrong,
        lost: (routesUnchanged ? 0 : 1) + (alive ? 0 : 1) + containers + fiveHundreds,
        detail: ok
          ? `every answer the expected 4xx problem+json, 0 × 5xx; routes file unchanged, no container made, the controller process still up`
          : `FAILED: ${[...wrong.slice(0, 5), floodWrong ? `${floodWrong} wrong in floods` : "", routesUnchanged ? "" : "the routes file changed", alive ? "" : "the controller died", containers ? `${containers} containers made` : ""].filter(Boolean).join("; ")}`,
      },
      {
        fault: "bad config files (wrong kinds at every key, unknown keys)",
        injected: configFiles.length,
        survived: configFiles.length - badConfigs.length,
        lost: 0,
        detail: badConfigs.length === 0 ? "every one refused with a message naming the key; no crash" : `FAILED: ${badConfigs.slice(0, 5).map((file) => file.key).join(", ")} not refused by name`,
      },
    ];
  } finally {
    await stack.close();
  }
}
