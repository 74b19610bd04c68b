import { watcherFaults } from "./watcher-faults.js";
import { formatTable } from "./report.js";
const rows = await watcherFaults(console.log);
console.log(formatTable(rows));
