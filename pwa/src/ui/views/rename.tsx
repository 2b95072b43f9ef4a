/** Renaming a space: a signed /weft/space/admin operation, offered to those who hold it. */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { useAction } from "../context.ts";

export function Rename(props: { space: Space }) {
  const [name, setName] = useState(props.space.name);
  const { busy, run } = useAction();
  return (
    <form
      class="row"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => props.space.rename(name.trim()), `Renamed to ${name.trim()}`);
      }}
    >
      <input
        aria-label={`New name for ${props.space.name}`}
        value={name}
        maxLength={200}
        required
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={busy || !name.trim() || name.trim() === props.space.name}>Rename</button>
    </form>
  );
}
