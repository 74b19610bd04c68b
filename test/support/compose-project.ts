// A small environment of busybox services for the environment tests: web answers with what db says (by its service name), migrate runs once into db's volume, a worker shares it.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";

const START_PROBE = "      start_period: 1m\n      start_interval: 300ms\n";

/** The file with db's health told by Docker's own checks alone, every 2 s (no start_interval). */
export function withoutStartProbe(compose: string): string {
  if (!compose.includes(START_PROBE)) throw new Error("the compose file has no start probe to take out");
  return compose.replace(START_PROBE, "");
}

/** db is healthy once it answers (after DB_START_DELAY seconds); web starts after db is healthy and migrate is done. */
export const TEST_COMPOSE = `
services:
  web:
    image: ${SAMPLE_IMAGE}
    command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv"]
    volumes: ["./web:/srv:ro"]
    environment:
      APP_URL: \${DEMO_URL}
      GREETING: \${GREETING:-hello}
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
    ports: ["127.0.0.1:8080:8080"]
  migrate:
    image: ${SAMPLE_IMAGE}
    command: ["/bin/sh", "-c", "echo migrated-for-\${DEMO_ID} > /data/migrated.txt"]
    volumes: [data:/data]
    depends_on: [db]
  db:
    image: ${SAMPLE_IMAGE}
    environment: { START_DELAY: "\${DB_START_DELAY:-0}" }
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health.txt"]
      # Docker checks every 2 s; while db starts, every 300 ms (the controller does so where Docker ignores
      # start_interval). Each check is a process started in the container: at 300 ms throughout, a running db cost a
      # third of a core.
      interval: 2s
${START_PROBE}      timeout: 2s
      retries: 200
  worker:
    image: ${SAMPLE_IMAGE}
    command: ["/bin/sh", "-c", "echo worker-of-\${DEMO_ID} > /data/worker.txt; exec sleep 3600"]
    # A bind source the project does not have: Compose makes it an empty folder, and so do we.
    volumes: [data:/data, "./scratch:/scratch"]
    # sleep as PID 1 ignores SIGTERM: a replacement that stops it waits no longer than this.
    stop_grace_period: 1s
    depends_on:
      db: { condition: service_healthy }
volumes:
  data:
`;

const INDEX_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "web says $GREETING at $APP_URL"
echo "db says $(wget -q -O - http://db:8080/health.txt)"
`;

/** Writes the project (compose.yaml and web's CGI script) into `dir`; `compose` replaces the file's text. */
export async function writeComposeProject(dir: string, compose = TEST_COMPOSE): Promise<void> {
  await mkdir(path.join(dir, "web", "cgi-bin"), { recursive: true });
  await writeFile(path.join(dir, "compose.yaml"), compose);
  await writeFile(path.join(dir, "web", "cgi-bin", "index.cgi"), INDEX_CGI);
  await chmod(path.join(dir, "web", "cgi-bin", "index.cgi"), 0o755);
}
