/**
 * Above a space no other device holds yet (created in this browser, no
 * peer joined): nothing backs it up, and whether the browser agreed to keep
 * its storage, with a way to ask again. Gone as soon as another member
 * device appears.
 */
import { useEffect, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { askPersistence, type Persistence, persistence } from "../node/persist.ts";
import { useApp, useSpace } from "./context.ts";

export function BackupBanner(props: { space: Space }) {
  const { bn } = useApp();
  useSpace(props.space);
  const [kept, setKept] = useState<Persistence | undefined>();
  const alone = props.space.members().every((m) => m.did === bn.did || m.did === props.space.id);
  useEffect(() => {
    if (alone) void persistence().then(setKept);
  }, [alone]);
  if (!alone) return null;
  return (
    <p class="backup" role="note" data-backup="none" data-persistence={kept}>
      <strong>Only this browser holds this space.</strong>{" "}
      Nothing backs it up until a peer joins it: invite one from Capabilities (or run a peer and join with the invite).
      {" "}
      {kept === "persistent" && "The browser keeps its storage (it will not evict it when the disk runs low)."}
      {kept === "best-effort" && (
        <>
          The browser may clear its storage when the disk runs low.{" "}
          <button type="button" onClick={() => void askPersistence().then(setKept)}>Ask to keep it</button>
        </>
      )}
      {kept === "unsupported" && "This browser cannot be asked to keep its storage."}
    </p>
  );
}
