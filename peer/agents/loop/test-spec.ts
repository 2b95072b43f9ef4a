/**
 * A repository's test spec for agents: `.weft/tests.json` at the base
 * commit, naming the container image (by digest, as `weft image import`
 * prints it) and the command that runs the tests in the checkout (`/src`):
 *
 *     { "image": "sha256:…", "command": ["sh", "-c", "./test.sh"], "timeout": "2m", "memory": 256 }
 *
 * `"network": true` runs them with the network on (off by default): where
 * the space's gates hold such jobs back, a person approves it first.
 *
 * Read from the working tree before the model touches it, every field
 * checked and bounded: what the agent's runs will execute is what the
 * repository's maintainers committed, not what the model wrote.
 */
import { WeftError } from "#protocol";

export const TESTS_SPEC_PATH = ".weft/tests.json";

export interface TestsSpec {
  image: string;
  command: string[];
  timeoutMs: number;
  memoryMb: number;
  network: boolean;
}

const KEYS = ["image", "command", "timeout", "memory", "network"];
const malformed = (why: string) =>
  new WeftError("AgentTestsSpec", "input/invalid", `${TESTS_SPEC_PATH} ${why}; fix it in the repository`);

export function parseTestsSpec(text: string): TestsSpec {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch {
    throw malformed("is not JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw malformed("is not a JSON object");
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) throw malformed(`has unknown key ${JSON.stringify(k)}`);
  if (typeof v.image !== "string" || !/^sha256:[0-9a-f]{64}$/.test(v.image)) {
    throw malformed('needs "image": the image digest, sha256:<64 hex> (weft image import prints it)');
  }
  const command = v.command;
  if (
    !Array.isArray(command) || command.length === 0 || command.length > 64 ||
    !command.every((a) => typeof a === "string" && a.length <= 4096)
  ) throw malformed('needs "command": 1 to 64 strings');
  const m = /^(\d{1,5})(s|m)$/.exec(typeof v.timeout === "string" ? v.timeout : "10m");
  if (!m) throw malformed("timeout must be like 90s or 10m");
  const timeoutMs = Number(m[1]) * (m[2] === "m" ? 60_000 : 1000);
  const memoryMb = v.memory ?? 512;
  if (typeof memoryMb !== "number" || !Number.isInteger(memoryMb) || memoryMb < 16 || memoryMb > 65_536) {
    throw malformed("memory must be whole megabytes, 16 to 65536");
  }
  const network = v.network ?? false;
  if (typeof network !== "boolean") throw malformed("network must be true or false");
  return { image: v.image, command: command as string[], timeoutMs, memoryMb, network };
}
