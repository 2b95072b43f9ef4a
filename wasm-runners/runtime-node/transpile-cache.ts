/**
 * Transpiled components on disk, one directory per component CID, so a peer
 * pays for jco's transpile of a program once, not once per restart. Written
 * to a temporary directory and renamed into place, so a reader sees a whole
 * entry or none; an entry that cannot be read is treated as absent.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TranspileCache, Transpiled } from "../core/transpile.ts";

interface Manifest {
  format: number;
  modules: string[];
  imports: string[];
  exports: string[];
}

const SAFE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function diskTranspileCache(dir: string): TranspileCache {
  return {
    async get(cid) {
      const entry = join(dir, cid);
      try {
        const manifest = JSON.parse(await readFile(join(entry, "manifest.json"), "utf8")) as Manifest;
        const modules = await Promise.all(
          manifest.modules.map(async (name): Promise<[string, Uint8Array]> => [
            name,
            new Uint8Array(await readFile(join(entry, "modules", name))),
          ]),
        );
        const glue = await readFile(join(entry, "glue.js"), "utf8");
        return {
          format: manifest.format,
          glue,
          modules,
          imports: manifest.imports,
          exports: manifest.exports,
        } satisfies Transpiled;
      } catch {
        return undefined;
      }
    },
    async put(cid, t) {
      if (t.modules.some(([name]) => !SAFE_NAME.test(name))) return;
      const tmp = join(dir, `.tmp-${crypto.randomUUID()}`);
      await mkdir(join(tmp, "modules"), { recursive: true });
      try {
        await Promise.all(t.modules.map(([name, bytes]) => writeFile(join(tmp, "modules", name), bytes)));
        await writeFile(join(tmp, "glue.js"), t.glue);
        const manifest: Manifest = {
          format: t.format,
          modules: t.modules.map(([name]) => name),
          imports: t.imports,
          exports: t.exports,
        };
        await writeFile(join(tmp, "manifest.json"), JSON.stringify(manifest));
        await rm(join(dir, cid), { recursive: true, force: true });
        await rename(tmp, join(dir, cid)).catch(() => {});
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
