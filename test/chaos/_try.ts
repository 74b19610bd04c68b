import { dockerRestart } from "./docker-restart.js";
import { formatTable } from "./report.js";
const rows = await dockerRestart(Number(process.argv[2] ?? 1), console.log);
console.log(formatTable(rows));
