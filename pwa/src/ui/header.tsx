/** The top bar: the app's name, which space is open, the connection, and the command bar's key. */
import type { Space } from "#protocol/space";
import { navigate, spaceHref } from "../model/route.ts";
import { ConnectionBadge } from "./connection.tsx";
import { useApp } from "./context.ts";

export function Header(props: { space?: Space; openCommands(): void }) {
  const { bn } = useApp();
  const spaces = bn.node.spaces();
  return (
    <header class="top">
      <a class="brand" href="#/">
        <img src="./icon-192.png" alt="" width="28" height="28" />
        <span>Weft</span>
      </a>
      {spaces.length > 0 && (
        <select
          class="space-pick"
          aria-label="Space"
          value={props.space?.id ?? ""}
          onChange={(e) => {
            const id = (e.target as HTMLSelectElement).value;
            void bn.openSpace(id);
            navigate(spaceHref(id, "tasks"));
          }}
        >
          {!props.space && <option value="">Choose a space</option>}
          {spaces.map((s) => <option key={s.id} value={s.id}>{s.name || s.id.slice(-8)}</option>)}
        </select>
      )}
      <ConnectionBadge space={props.space} />
      <button type="button" class="cmd-open" onClick={props.openCommands} aria-keyshortcuts="Control+K">
        <span>Commands</span> <kbd>Ctrl K</kbd>
      </button>
    </header>
  );
}
