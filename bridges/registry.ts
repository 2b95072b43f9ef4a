/**
 * Every bridge kind a peer can run, by the name `weft.toml` uses
 * (`[bridges.<name>]`). Adding a bridge is one folder under bridges/ and one
 * line here.
 */
import type { BridgeKind } from "#protocol/bridge";
import { exampleBridge } from "./example/bridge.ts";
import { radicleBridge } from "./radicle/bridge.ts";
import { nostrBridge } from "./nostr/bridge.ts";
import { kubernetesBridge } from "./kubernetes/bridge.ts";

export const BRIDGES: ReadonlyMap<string, BridgeKind> = new Map<string, BridgeKind>([
  [exampleBridge.name, exampleBridge as BridgeKind],
  [radicleBridge.name, radicleBridge as BridgeKind],
  [nostrBridge.name, nostrBridge as BridgeKind],
  [kubernetesBridge.name, kubernetesBridge as BridgeKind],
]);
