/**
 * Opening the pairing link a peer prints (`#/pair?code=…`): the code is
 * taken out of the address bar and history at once, redeemed with this
 * browser's DID at the peer that served the page, and the device invites
 * the peer signs in return are joined, so one click shows the peer's tasks.
 */
import { useEffect, useState } from "preact/hooks";
import { navigate, spaceHref } from "../../model/route.ts";
import { deviceName } from "../../node/browser-node.ts";
import { useApp } from "../context.ts";

/** Ask the serving peer for device invites; throws with the peer's own words when it refuses. */
async function redeem(code: string, audience: string, name: string): Promise<string[]> {
  const r = await fetch(new URL("/v1/pair", location.href), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, audience, name }),
  });
  const body = await r.json().catch(() => undefined);
  if (!r.ok) throw new Error(body?.error?.message ?? `the peer refused the pairing (HTTP ${r.status})`);
  const invites = body?.invites;
  if (!Array.isArray(invites) || !invites.every((i) => typeof i === "string")) {
    throw new Error("the peer's answer holds no invites");
  }
  return invites;
}

export function Pair(props: { code?: string }) {
  const { bn, notify } = useApp();
  const [code] = useState(props.code);
  const [state, setState] = useState<{ text: string; error?: boolean }>({ text: "Pairing this browser…" });
  useEffect(() => {
    if (props.code) navigate("#/pair", true);
    if (!code) {
      setState({ text: "This pairing link has no code: open the link the peer printed, whole.", error: true });
      return;
    }
    const name = deviceName(bn.node.did);
    void (async () => {
      try {
        const invites = await redeem(code, bn.node.did, name);
        setState({ text: `Paired: joining ${invites.length} space(s) from the peer…` });
        const spaces = await Promise.all(invites.map((invite) => bn.join(invite, name)));
        notify({ text: `This browser is now a device of ${spaces.map((s) => s.name).join(", ")}` });
        navigate(spaceHref(spaces[0].id, "tasks"), true);
      } catch (e) {
        setState({ text: (e as Error).message, error: true });
      }
    })();
  }, []);
  return (
    <section class="stack narrow" aria-labelledby="pair-title">
      <h2 id="pair-title">Pair with this peer</h2>
      <p id="pair-status" role={state.error ? "alert" : "status"}>{state.text}</p>
    </section>
  );
}
