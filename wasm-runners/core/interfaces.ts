/**
 * The WASI interfaces a Weft WebAssembly job may import — the host checks a
 * component against this list before running it, and the sandbox provides
 * exactly these. The `weft:job` world (wit/job.wit) is the part a job can
 * use; the sockets and HTTP interfaces are here only so components built for
 * `wasi:cli/command` still instantiate: every call to them is refused.
 */

export const JOB_INTERFACES = [
  "wasi:cli/environment",
  "wasi:cli/exit",
  "wasi:cli/stdin",
  "wasi:cli/stdout",
  "wasi:cli/stderr",
  "wasi:cli/terminal-input",
  "wasi:cli/terminal-output",
  "wasi:cli/terminal-stdin",
  "wasi:cli/terminal-stdout",
  "wasi:cli/terminal-stderr",
  "wasi:clocks/monotonic-clock",
  "wasi:clocks/wall-clock",
  "wasi:filesystem/types",
  "wasi:filesystem/preopens",
  "wasi:io/error",
  "wasi:io/poll",
  "wasi:io/streams",
  "wasi:random/random",
  "wasi:random/insecure",
  "wasi:random/insecure-seed",
] as const;

export const REFUSED_INTERFACES = [
  "wasi:sockets/network",
  "wasi:sockets/instance-network",
  "wasi:sockets/ip-name-lookup",
  "wasi:sockets/tcp",
  "wasi:sockets/tcp-create-socket",
  "wasi:sockets/udp",
  "wasi:sockets/udp-create-socket",
  "wasi:http/types",
  "wasi:http/outgoing-handler",
] as const;

export type ProvidedInterface = typeof JOB_INTERFACES[number] | typeof REFUSED_INTERFACES[number];

const PROVIDED: ReadonlySet<string> = new Set<string>([...JOB_INTERFACES, ...REFUSED_INTERFACES]);

/** The imports (as jco names them, without versions) that the sandbox does not provide. */
export function unsupportedImports(imports: readonly string[]): string[] {
  return imports.filter((name) => !PROVIDED.has(name.replace(/@[^/]*$/, "")));
}
