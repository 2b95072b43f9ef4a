/**
 * The deploy files, checked offline against the code they ship: the
 * Dockerfile's build stage has what `npm install`'s postinstall needs to build the
 * dashboard, and its run stage copies every folder the peer and the relay
 * import plus the built dashboard (the image used to lack wasm-runners/ and
 * pwa/dist, so it could not start); the Kubernetes manifests and the compose
 * file are internally consistent (selectors, named ports, volumes, claims,
 * the ports the image listens on); the systemd unit passes
 * `systemd-analyze verify`. No Kubernetes schema validator is installed
 * here (no kubeconform, no kubernetes-models), so schemas are not checked.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const read = (p: string) => readFileSync(join(REPO, p), "utf8");
const IMPORTS = JSON.parse(read("package.json")).imports as Record<string, string>;

/** Every repo file reachable by static and dynamic imports from `entries` (relative and #protocol ones). */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = entries.map((e) => join(REPO, e));
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      const spec = m[1];
      let target: string | undefined;
      if (spec.startsWith(".")) target = resolve(dirname(file), spec);
      else if (IMPORTS[spec]) target = join(REPO, IMPORTS[spec]);
      if (target && /\.(ts|tsx)$/.test(target) && existsSync(target) && statSync(target).isFile()) todo.push(target);
    }
  }
  return seen;
}

const topFolders = (files: Set<string>) =>
  new Set([...files].map((f) => relative(REPO, f).split("/")[0]).filter((p) => !p.includes(".")));

/** The Dockerfile's stages: each stage's COPY sources (`--from` ones as `stage:path`) and its RUN lines, in order. */
function stages(text: string) {
  const out: Array<{ copies: string[]; runs: string[]; order: string[] }> = [];
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("FROM ")) out.push({ copies: [], runs: [], order: [] });
    const stage = out[out.length - 1];
    if (line.startsWith("COPY ")) {
      const from = /--from=(\S+)/.exec(line)?.[1];
      const parts = line.replace(/--\S+/g, "").trim().split(/\s+/).slice(1, -1);
      for (const p of parts) {
        const src = `${from ? `${from}:` : ""}${p.replace(/^\.\//, "").replace(/\/$/, "")}`;
        stage.copies.push(src);
        stage.order.push(`COPY ${src}`);
      }
    }
    if (line.startsWith("RUN ")) {
      stage.runs.push(line);
      stage.order.push(line);
    }
  }
  return out;
}

describe("deploy files", () => {
  const docker = stages(read("deploy/Dockerfile"));
  const run = docker[docker.length - 1];

  it("the image's run stage has every folder the peer and the relay import, and the built dashboard", () => {
    const needed = topFolders(reachable(["peer/main.ts", "peer/relay/node.ts"]));
    assert.ok(needed.has("wasm-runners") && needed.has("protocol") && needed.has("peer"), [...needed].join(","));
    for (const folder of needed) assert.ok(run.copies.includes(folder), `deploy/Dockerfile does not copy ${folder}/`);
    assert.ok(
      run.copies.includes("build:/app/pwa/dist"),
      "the run stage copies the dashboard built in the build stage",
    );
    assert.ok(run.copies.includes("build:/app/node_modules"), "and the dependencies");
  });

  it("the build stage has what npm install's postinstall needs to build the dashboard before it runs", () => {
    const build = docker[0];
    const postinstall = JSON.parse(read("package.json")).scripts.postinstall as string;
    assert.match(postinstall, /pwa\/build\/build\.ts/);
    const needed = topFolders(reachable(["pwa/build/build.ts", "pwa/src/main.tsx", "pwa/src/sw.ts"]));
    const install = build.order.findIndex((l) => /npm install/.test(l));
    assert.ok(install >= 0, "the build stage runs npm install");
    for (const folder of needed) {
      const at = build.order.indexOf(`COPY ${folder}`);
      assert.ok(at >= 0 && at < install, `the build stage copies ${folder}/ before npm install`);
    }
    assert.match(build.runs.join("\n"), /npm prune --omit=dev/, "dev dependencies stay out of the image");
  });

  it("the Kubernetes manifests agree with themselves and with the image", () => {
    const docs = parseAllDocuments(read("deploy/kubernetes/peer.yaml")).map((d) => d.toJS());
    const expose = /EXPOSE\s+([\d\s]+)/.exec(read("deploy/Dockerfile"))![1].trim().split(/\s+/).map(Number);
    const byKind = (k: string) => docs.filter((d) => d.kind === k);
    for (const d of docs) {
      assert.ok(typeof d.apiVersion === "string" && typeof d.kind === "string", "apiVersion and kind");
      assert.match(d.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${d.kind} has a DNS-1123 name`);
    }
    const claims = new Set(byKind("PersistentVolumeClaim").map((c) => c.metadata.name));
    const services = byKind("Service");
    for (const w of [...byKind("StatefulSet"), ...byKind("Deployment")]) {
      const labels = w.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) assert.equal(labels[k], v, "selector matches");
      if (w.kind === "StatefulSet") assert.ok(services.some((s) => s.metadata.name === w.spec.serviceName));
      const volumes = new Map(w.spec.template.spec.volumes.map((v: { name: string }) => [v.name, v]));
      for (const c of w.spec.template.spec.containers) {
        const ports = new Map(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
        for (const p of ports.values()) assert.ok(expose.includes(p as number), `the image exposes ${p}`);
        for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
          assert.ok(ports.has(probe.httpGet.port), `probe port ${probe.httpGet.port} is a named container port`);
          assert.match(probe.httpGet.path, /^\/(healthz|readyz)$/);
        }
        for (const m of c.volumeMounts) {
          const v = volumes.get(m.name) as { persistentVolumeClaim?: { claimName: string } } | undefined;
          assert.ok(v, `volume ${m.name} is declared`);
          if (v.persistentVolumeClaim) assert.ok(claims.has(v.persistentVolumeClaim.claimName), "the claim exists");
        }
        assert.equal(c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/data")?.name, "data");
      }
      for (const s of services) {
        if (!Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v)) continue;
        const named = new Set(
          w.spec.template.spec.containers.flatMap((c: { ports: { name: string }[] }) => c.ports.map((p) => p.name)),
        );
        for (const p of s.spec.ports) assert.ok(named.has(p.targetPort), `service port ${p.name} targets a named port`);
      }
    }
  });

  it("the compose file builds the image it documents, with declared volumes and the ports each service listens on", () => {
    const compose = parse(read("deploy/compose.yaml"));
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, svc] of Object.entries(compose.services) as [string, Record<string, any>][]) {
      const context = join(REPO, "deploy", svc.build.context);
      assert.ok(existsSync(join(context, svc.build.dockerfile)), `${name}: its Dockerfile exists`);
      for (const v of svc.volumes ?? []) {
        const [source, target] = String(v).split(":");
        assert.ok(declared.has(source), `${name}: volume ${source} is declared`);
        assert.equal(target, "/data", `${name}: mounts its volume at WEFT_HOME`);
      }
      const port = Number(svc.environment?.WEFT_HTTP_PORT ?? 7777);
      const published = (svc.ports ?? []).map((p: string) => Number(String(p).split(":").at(-1)));
      assert.ok(published.includes(port), `${name}: publishes the HTTP port it listens on (${port})`);
      const command: string[] = svc.command ?? ["node", "peer/main.ts"];
      assert.ok(existsSync(join(REPO, command[1])), `${name}: ${command[1]} exists`);
    }
  });

  it("the systemd unit passes systemd-analyze verify, installed where this checkout is", (t) => {
    if (spawnSync("systemd-analyze", ["--version"]).status !== 0) return t.skip("no systemd-analyze on this machine");
    const dir = mkdtempSync(join(tmpdir(), "weft-unit-"));
    try {
      const unit = join(dir, "weft.service");
      writeFileSync(unit, read("deploy/peer/weft.service").replaceAll("/opt/weft", REPO.replace(/\/$/, "")));
      execFileSync("systemd-analyze", ["verify", unit], { stdio: "pipe" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
