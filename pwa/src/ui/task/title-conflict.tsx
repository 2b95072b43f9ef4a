/**
 * Shows concurrent title edits (model/title-conflicts.ts) under the title:
 * which title was kept and whose was replaced without either author seeing
 * the other's, with a way to put a replaced one back (a new edit, made
 * having seen both, which settles it).
 */
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { titleConflict } from "../../model/title-conflicts.ts";
import { useAction, useApp } from "../context.ts";
import { who } from "../format.ts";

export function TitleConflict(props: { space: Space; task: TaskView; names: Map<string, string> }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const conflict = titleConflict(props.space, props.task);
  if (!conflict) return null;
  const mayEdit = can(props.space, bn.did, Commands.taskEdit);
  const name = (did: string) => who(did, props.names, bn.did);
  return (
    <div class="removed stack" role="note" data-title-conflict>
      <p>
        <strong>The title was edited at the same time by more than one person.</strong>{" "}
        Kept: “{conflict.kept.title}” ({name(conflict.kept.author)}).
      </p>
      <ul class="plain">
        {conflict.replaced.map((e) => (
          <li key={e.op} data-replaced-title={e.title}>
            Replaced: “{e.title}” ({name(e.author)}), made without seeing the kept one. {mayEdit && (
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void run(() => props.space.act("edit", { task: props.task.id, title: e.title }), "Title restored")}
              >
                Use this title
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
