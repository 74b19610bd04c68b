// Child of the state-writes scenario: writes the controller's state and routes files as fast as it can,
// growing each time, until it is killed. Uses the built controller code (dist), as the controller does.
import { RoutesFile } from "../../dist/nginx/routes-file.js";
import { StateFile } from "../../dist/state/state-file.js";

const [stateDir, configDir, controllerPort] = process.argv.slice(2);
const state = new StateFile(stateDir);
const routes = new RoutesFile(configDir, { host: "127.0.0.1", port: Number(controllerPort) });
for (let round = 1; ; round += 1) {
  // Big enough that a write takes a while, so kills land inside writes too.
  const count = 500 + ((round * 137) % 3000);
  const ended = Array.from({ length: count }, (_, i) => ({ id: `e${round}x${i}`, app: "hello", status: "expired", reason: "its time box ended", endedAt: Date.now() }));
  await state.save({ ended, queued: [], leases: [{ id: `round${round}`, expiresAt: count }] });
  const list = Array.from({ length: count }, (_, i) => ({ id: `r${i}`, host: `r${i}x${round}.demo.localhost`, backends: [`127.0.0.1:${20000 + (i % 1000)}`], banner: i % 2 === 0 }));
  await routes.write(list, round);
}
