/**
 * The CLI's command registry and its area files agree: every listed name
 * is defined by the area it points at, and every command an area defines
 * is listed (so `weft --help` and dispatch see it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AREAS, REGISTRY } from "../../peer/cli/registry.ts";

test("every registered command is defined by its area, and every defined command is registered", async () => {
  const defined = new Set<string>();
  for (const area of AREAS) for (const name of Object.keys(await area())) defined.add(name);
  for (const [name, area] of REGISTRY) {
    assert.ok((await area())[name], `${name} is registered but its area does not define it`);
  }
  assert.deepEqual([...defined].sort(), [...REGISTRY.keys()].sort());
  assert.deepEqual(new Set(REGISTRY.values()), new Set(AREAS), "AREAS lists exactly the areas the registry uses");
});
