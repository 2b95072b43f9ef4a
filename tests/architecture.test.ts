/**
 * The layering rules of ARCHITECTURE.md, enforced on every folder they
 * govern: protocol/ is pure (no node:*, no Deno.*, no DOM or Node globals,
 * no imports from shells or bridges); wasm-runners/core and
 * wasm-runners/sandbox are as runtime-free as protocol/; the shells never
 * import each other (pwa/ never imports peer/, peer/ never imports pwa/);
 * shells and bridges reach protocol/ only through its public entries
 * (`#protocol/<area>`, mapped identically for Node and Deno).
 * Files are parsed with the TypeScript compiler, so a word in a string or a
 * comment is not mistaken for a use.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

interface Parsed {
  /** Path from the repository root. */
  rel: string;
  /** Every module specifier: static and dynamic imports, re-exports. */
  imports: string[];
  /** Free uses of the globals asked about: not a property name, not a name the file declares itself. */
  globals: Set<string>;
}

/** Globals only a browser page has. (Web platform APIs every runtime has — fetch, crypto, WebSocket — are fine.) */
const DOM_GLOBALS = [
  "window",
  "document",
  "localStorage",
  "sessionStorage",
  "indexedDB",
  "location",
  "history",
  "customElements",
  "HTMLElement",
  "requestAnimationFrame",
  "IDBKeyRange",
  "MutationObserver",
];
/** Globals only Node or Deno have. */
const RUNTIME_GLOBALS = ["Deno", "process", "Buffer", "require", "__dirname", "__filename"];
const WATCHED = new Set([...DOM_GLOBALS, ...RUNTIME_GLOBALS]);

/** What a file imports and which watched globals it uses; `rel` is its path from the repository root. */
function parseSource(rel: string, text: string): Parsed {
  const source = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const declared = new Set<string>();
  const used = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      imports.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])
    ) {
      imports.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) imports.push(literal.text);
    }
    if (ts.isIdentifier(node) && WATCHED.has(node.text)) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.name === node) {
        // `globalThis.document` is a use; `x.document` is not.
        if (parent.expression.getText() === "globalThis") used.add(node.text);
      } else if ((parent as { name?: ts.Node }).name === node) {
        if (!ts.isPropertyAssignment(parent) && !ts.isPropertySignature(parent)) declared.add(node.text);
      } else if (!ts.isShorthandPropertyAssignment(parent) && !ts.isQualifiedName(parent)) {
        used.add(node.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { rel, imports, globals: new Set([...used].filter((g) => !declared.has(g))) };
}

const parsed = new Map<string, Parsed>();

function parse(file: string): Parsed {
  let p = parsed.get(file);
  if (!p) parsed.set(file, p = parseSource(relative(root, file), readFileSync(file, "utf8")));
  return p;
}

/** A relative specifier as a path from the repository root; undefined for packages and node:*. */
function target(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  return relative(root, resolve(dirname(join(root, file)), spec));
}

const under = (path: string, folder: string) => path === folder || path.startsWith(folder + "/");

interface Rule {
  /** Folders whose files the rule governs. */
  folders: string[];
  /** Folders they must not import from. */
  forbidden: string[];
  /** Whether they must stay runtime-free: no node:*, no Deno/Node or DOM globals. */
  pure: boolean;
}

const SHELLS_AND_BRIDGES = ["peer", "pwa", "bridges", "wasm-runners", "deploy", "tests"];
const RULES: Record<string, Rule> = {
  "protocol/ is pure and imports no shell or bridge": {
    folders: ["protocol"],
    forbidden: SHELLS_AND_BRIDGES,
    pure: true,
  },
  "wasm-runners/core and wasm-runners/sandbox are runtime-free": {
    folders: ["wasm-runners/core", "wasm-runners/sandbox"],
    forbidden: [
      "peer",
      "pwa",
      "bridges",
      "tests",
      "wasm-runners/runtime-node",
      "wasm-runners/runtime-deno",
      "wasm-runners/runtime-browser",
      "wasm-runners/samples",
    ],
    pure: true,
  },
  "pwa/ never imports peer/": { folders: ["pwa"], forbidden: ["peer", "tests"], pure: false },
  "peer/ never imports pwa/": { folders: ["peer"], forbidden: ["pwa", "tests"], pure: false },
  "shells and bridges import protocol/ only through #protocol entries": {
    folders: ["peer", "pwa", "bridges", "wasm-runners", "deploy"],
    forbidden: ["protocol"],
    pure: false,
  },
};

/** Every way `files` break `rule`, as "file: what". */
function violations(rule: Rule, files: Parsed[]): string[] {
  const bad: string[] = [];
  for (const p of files) {
    for (const spec of p.imports) {
      if (rule.pure && spec.startsWith("node:")) bad.push(`${p.rel}: imports ${spec}`);
      const to = target(p.rel, spec);
      if (to !== undefined && rule.forbidden.some((f) => under(to, f))) bad.push(`${p.rel}: imports ${spec}`);
    }
    if (rule.pure) { for (const g of p.globals) bad.push(`${p.rel}: uses the global ${g}`); }
  }
  return bad;
}

const filesOf = (rule: Rule) => rule.folders.flatMap((f) => sources(join(root, f))).map(parse);

describe("architecture", () => {
  for (const [name, rule] of Object.entries(RULES)) {
    it(name, () => {
      assert.deepEqual(violations(rule, filesOf(rule)), []);
    });
  }

  it("the checks catch what they are for", () => {
    // Each rule, fed one file that breaks it, reports it: the rules are not vacuous.
    const asIf = (folder: string, rule: Rule, text: string) =>
      violations(rule, [parseSource(`${folder}/probe.ts`, text)]);
    const r = RULES;
    assert.equal(asIf("pwa/src", r["pwa/ never imports peer/"], `import "../../peer/api/client.ts";`).length, 1);
    assert.equal(asIf("peer/api", r["peer/ never imports pwa/"], `import "../../pwa/src/app.tsx";`).length, 1);
    const entries = r["shells and bridges import protocol/ only through #protocol entries"];
    assert.equal(asIf("bridges/x", entries, `import { Space } from "../../protocol/space/space.ts";`).length, 1);
    assert.deepEqual(asIf("bridges/x", entries, `import { Space } from "#protocol/space";`), []);
    const core = r["wasm-runners/core and wasm-runners/sandbox are runtime-free"];
    assert.equal(asIf("wasm-runners/core", core, `import { x } from "../runtime-node/runner.ts";`).length, 1);
    assert.equal(asIf("wasm-runners/sandbox", core, `const p = Deno.pid;`).length, 1);
    const protocol = r["protocol/ is pure and imports no shell or bridge"];
    assert.equal(asIf("protocol/x", protocol, `import "node:fs";`).length, 1);
    assert.equal(asIf("protocol/x", protocol, `export { y } from "../../peer/y.ts";`).length, 1);
    assert.equal(asIf("protocol/x", protocol, `const t = document.title;`).length, 1);
    assert.equal(asIf("protocol/x", protocol, `const d = globalThis.localStorage;`).length, 1);
    assert.equal(asIf("protocol/x", protocol, `const e = process.env.HOME;`).length, 1);
    // Not uses: a word in a string or comment, a property, a name the file declares.
    const clean = `// the document
      const s = "window"; const o = { document: 1 }; o.document;
      function f(location: string) { return location; }`;
    assert.deepEqual(asIf("protocol/x", protocol, clean), []);
  });

  it("the public entries are the same for Node and Deno, and each names an area's index.ts", () => {
    const node: Record<string, string> = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).imports;
    const deno: Record<string, string> = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).imports;
    assert.deepEqual(node, deno);
    const areas = readdirSync(join(root, "protocol")).filter((d) => statSync(join(root, "protocol", d)).isDirectory());
    const expected = Object.fromEntries([
      ["#protocol", "./protocol/index.ts"],
      ...areas.map((a) => [`#protocol/${a}`, `./protocol/${a}/index.ts`]),
    ]);
    assert.deepEqual(node, expected);
    for (const path of Object.values(node)) assert.ok(statSync(join(root, path)).isFile(), path);
  });

  it("every relative import of this repository's code names its .ts file", () => {
    const bad: string[] = [];
    for (const dir of ["protocol", "peer", "pwa", "wasm-runners", "bridges", "tests"]) {
      for (const file of sources(join(root, dir))) {
        const p = parse(file);
        for (const spec of p.imports) {
          const to = target(p.rel, spec);
          // Package files imported by path, and stylesheets (bundled by Vite), are not this repository's modules.
          if (to === undefined || under(to, "node_modules") || spec.endsWith(".css")) continue;
          if (!/\.(ts|tsx|json)$/.test(spec)) bad.push(`${p.rel}: ${spec}`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });

  it("`deno task test` runs CI's Deno step, and every path it names holds tests", () => {
    const task: string = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).tasks.test;
    const args = task.split(/\s+/);
    const paths = args.slice(args.indexOf("test") + 1).filter((a) => !a.startsWith("-"));
    assert.ok(paths.length > 0, task);
    for (const path of paths) {
      const full = join(root, path);
      const tests = statSync(full).isDirectory() ? sources(full).filter((f) => f.endsWith(".test.ts")) : [full];
      assert.ok(tests.length > 0 && tests.every((f) => f.endsWith(".test.ts")), `${path} holds no tests`);
    }
    assert.match(readFileSync(join(root, ".ci/run"), "utf8"), /^deno task test$/m, "CI runs the same task");
  });
});
