/** Joining a space with an invite, and creating one whose root key stays in this browser. */
import { useState } from "preact/hooks";
import { navigate, spaceHref } from "../model/route.ts";
import { deviceName } from "../node/browser-node.ts";
import { useAction, useApp } from "./context.ts";

export function JoinForm(props: { initial?: string }) {
  const { bn, notify } = useApp();
  const [text, setText] = useState(props.initial ?? "");
  const [name, setName] = useState(() => deviceName(bn.did));
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="stack"
      aria-labelledby="join-title"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        const joining = bn.join(text, name.trim() || deviceName(bn.did));
        // A bad invite fails at once; a good one waits (maybe offline) until a member serves the space.
        const settled = await Promise.race([
          joining.then(() => true, (err: Error) => {
            notify({ text: err.message, error: true });
            return false;
          }),
          new Promise<"waiting">((r) => setTimeout(r, 1500, "waiting")),
        ]);
        setBusy(false);
        if (settled === "waiting") {
          notify({ text: "Invite accepted here; waiting for a member to serve the space" });
          setText("");
        }
        const space = await joining.catch(() => undefined);
        if (space) {
          notify({ text: `Joined ${space.name}` });
          navigate(spaceHref(space.id, "tasks"));
        }
      }}
    >
      <h2 id="join-title">Join a space</h2>
      <label for="invite-text">
        Invite (from a member: <code>weft space invite</code>)
      </label>
      <textarea
        id="invite-text"
        rows={3}
        required
        placeholder="weft-invite:…"
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <label for="device-name">Name this device for the others</label>
      <input
        id="device-name"
        maxLength={64}
        value={name}
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <div>
        <button type="submit" disabled={busy || !text.trim()}>Join</button>
      </div>
    </form>
  );
}

export function CreateSpaceForm() {
  const { bn } = useApp();
  const [name, setName] = useState("");
  const { busy, run } = useAction();
  return (
    <form
      class="stack"
      aria-labelledby="create-space-title"
      onSubmit={async (e) => {
        e.preventDefault();
        let id = "";
        if (await run(async () => (id = (await bn.createSpace(name.trim())).id), `Created ${name.trim()}`)) {
          setName("");
          navigate(spaceHref(id, "tasks"));
        }
      }}
    >
      <h2 id="create-space-title">Create a space</h2>
      <label for="space-name">Name</label>
      <div class="row">
        <input
          id="space-name"
          required
          maxLength={200}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy || !name.trim()}>Create</button>
      </div>
      <p class="hint">Its root key is made here and never leaves this browser.</p>
    </form>
  );
}

/** Both forms side by side: join a space shared with this device, or start one here. */
export function JoinOrCreate() {
  return (
    <div class="cards">
      <div class="card">
        <JoinForm />
      </div>
      <div class="card">
        <CreateSpaceForm />
      </div>
    </div>
  );
}
