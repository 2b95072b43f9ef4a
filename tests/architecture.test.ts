/**
 * The layering rules of ARCHITECTURE.md, enforced: protocol/ is pure
 * (no node:*, no Deno.*, no DOM globals of its own choosing, no imports
 * from shells), and nothing imports across shells the wrong way.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx)$/.test(name)) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:import|export)[^"';]*?from\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
const importsOf = (file: string) => [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);

describe("architecture", () => {
  it("protocol/ imports no node:*, uses no Deno.*, and imports nothing from the shells", () => {
    const bad: string[] = [];
    for (const file of sources(join(root, "protocol"))) {
      const rel = relative(root, file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith("node:")) bad.push(`${rel} imports ${spec}`);
        if (/^(\.\.\/)+(peer|pwa|bridges|wasm-runners|tests)\//.test(spec)) bad.push(`${rel} imports ${spec}`);
      }
      if (/\bDeno\./.test(readFileSync(file, "utf8"))) bad.push(`${rel} uses Deno.*`);
    }
    assert.deepEqual(bad, []);
  });

  it("every relative import names its .ts file", () => {
    const bad: string[] = [];
    for (const dir of ["protocol", "peer", "tests"]) {
      for (const file of sources(join(root, dir))) {
        for (const spec of importsOf(file)) {
          if (spec.startsWith(".") && !/\.(ts|tsx|json)$/.test(spec)) bad.push(`${relative(root, file)}: ${spec}`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });
});
