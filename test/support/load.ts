// A steady client load on one host through nginx: keep-alive and new connections, every answer recorded.
import http from "node:http";

export interface LoadAnswer {
  at: number;
  status: number;
  body: string;
  keepAlive: boolean;
}

export interface LoadFailure {
  at: number;
  error: string;
  keepAlive: boolean;
}

export interface LoadRun {
  answers: LoadAnswer[];
  failures: LoadFailure[];
  /** GETs sent again on a new connection because a retiring nginx worker closed the reused one, as browsers do. */
  retried: number;
  /** Resolves once `count` more answers (or failures) came in than when called: "the load went on past this point". */
  more(count: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Two loops, one on a keep-alive connection and one opening a new connection per request, each waiting
 * `pauseMs` between requests. A GET whose reused keep-alive connection is closed before any answer is sent
 * again once (RFC 9112 §9.3.1; what browsers and Node's documentation do); any other error is a failure.
 */
export function startLoad(port: number, host: string, options: { pauseMs?: number; path?: string } = {}): LoadRun {
  const waiting = new Set<{ at: number; resolve: () => void }>();
  const seen = () => run.answers.length + run.failures.length;
  const heard = () => {
    for (const waiter of waiting) if (seen() >= waiter.at) (waiting.delete(waiter), waiter.resolve());
  };
  const run: LoadRun = {
    answers: [],
    failures: [],
    retried: 0,
    more: (count) => new Promise((resolve) => (waiting.add({ at: seen() + count, resolve }), heard())),
    stop: async () => {},
  };
  let stopped = false;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = (keepAlive: boolean) =>
    new Promise<LoadAnswer>((resolve, reject) => {
      const request = http.get({ host: "127.0.0.1", port, path: options.path ?? "/", headers: { host }, agent: keepAlive ? agent : false, timeout: 10_000 }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ at: Date.now(), status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), keepAlive }));
        response.on("error", reject);
      });
      request.on("timeout", () => request.destroy(new Error("timed out")));
      request.on("error", (error: NodeJS.ErrnoException) => reject(Object.assign(error, { reused: request.reusedSocket })));
    });
  const loop = async (keepAlive: boolean) => {
    while (!stopped) {
      try {
        run.answers.push(await once(keepAlive));
      } catch (error) {
        const failure = error as NodeJS.ErrnoException & { reused?: boolean };
        if (failure.reused && failure.code === "ECONNRESET") {
          run.retried += 1;
          try {
            run.answers.push(await once(keepAlive));
          } catch (again) {
            run.failures.push({ at: Date.now(), error: (again as Error).message, keepAlive });
          }
        } else run.failures.push({ at: Date.now(), error: failure.message, keepAlive });
      }
      heard();
      // Pacing, not waiting for anything: two clients that pause a little between requests, as people do.
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 5));
    }
  };
  const loops = [loop(true), loop(false)];
  run.stop = async () => {
    stopped = true;
    await Promise.all(loops);
    agent.destroy();
  };
  return run;
}
