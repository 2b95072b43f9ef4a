/**
 * An HTTP load generator in a process of its own (forked fresh for each
 * measurement), so the server measured has its event loop to itself. The
 * parent sends one job — a URL, a method and one set of headers per
 * request — and gets back the requests per second. Any answer other than
 * 2xx fails the run: a benchmark of errors measures nothing.
 */
import { fork } from "node:child_process";
import process from "node:process";

export interface LoadJob {
  url: string;
  method: "GET" | "POST";
  /** Headers per request (e.g. a single-use bearer each); the job makes `headers.length` requests. */
  headers: Record<string, string>[];
  concurrency: number;
}

/** Run `job` from a fresh process; resolves with requests per second. */
export function loadFromChild(job: LoadJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ["--child"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (m: { rate?: number; error?: string }) => {
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m.rate!);
      child.disconnect();
    });
    child.once("exit", (code) => code !== 0 && reject(new Error(`the load generator exited with ${code}`)));
    child.send(job);
  });
}

async function run(job: LoadJob): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, async () => {
    while (next < job.headers.length) {
      const res = await fetch(job.url, { method: job.method, headers: job.headers[next++] });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  }));
  return job.headers.length / ((performance.now() - start) / 1000);
}

if (process.argv.includes("--child")) {
  process.once("message", (job: LoadJob) => {
    run(job).then(
      (rate) => process.send!({ rate }),
      (e) => process.send!({ error: String(e) }),
    );
  });
}
