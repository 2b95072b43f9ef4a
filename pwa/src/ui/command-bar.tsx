/**
 * The command bar (Ctrl+K): one line such as `task add Fix the flaky test
 * #ci` or `claim 3fa`, run against the open space, or words of a task to
 * find it (model/search.ts: titles, ids, labels, recent ones first).
 * Suggestions follow the typing (arrow keys to pick, Tab to complete,
 * Enter on a task opens it); a refusal stays in the bar with its reason, a
 * success closes it and is announced.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { type CommandSpec, findCommand, runCommand, suggest } from "../model/commands.ts";
import { navigate, taskHref } from "../model/route.ts";
import { searchTasks } from "../model/search.ts";
import { shortId } from "../model/task-ref.ts";
import { useApp } from "./context.ts";

export function CommandBar(props: { open: boolean; space?: Space; close(): void }) {
  const { bn, notify } = useApp();
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [active, setActive] = useState(-1);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  // Open and close follow `props.open` only; Escape (the dialog's cancel) asks to close. Listening to the dialog's
  // own close event instead would race: its event, queued by a close, lands after a Ctrl+K that opened it again.
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (props.open && !d.open) {
      d.showModal();
      setError("");
      input.current?.focus();
    } else if (!props.open && d.open) d.close();
  }, [props.open]);

  const options = suggestions(text, props.space);

  const openTask = (t: TaskView) => {
    navigate(taskHref(props.space!.id, t.id));
    notify({ text: `opened ${shortId(t.id)}` });
    setText("");
    setActive(-1);
    props.close();
  };

  const submit = async () => {
    const picked = options[active];
    if (picked && "task" in picked) return openTask(picked.task);
    if (!text.trim()) {
      if (picked && "spec" in picked) setText(picked.spec.name + " ");
      return;
    }
    // `open …` or words that start no command: Enter opens the best match.
    const first = options[0];
    if (first && "task" in first) return openTask(first.task);
    setBusy(true);
    setError("");
    try {
      const said = await runCommand({ bn, space: props.space, go: (h) => navigate(h) }, text);
      notify({ text: said });
      setText("");
      setActive(-1);
      props.close();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = options.length;
      if (n) setActive((a) => (e.key === "ArrowDown" ? (a + 1) % n : (a - 1 + n) % n));
    } else if (e.key === "Tab") {
      const o = options[Math.max(active, 0)];
      if (o && "spec" in o && !text.includes(" ")) {
        e.preventDefault();
        setText(o.spec.name + " ");
      }
    }
  };

  return (
    <dialog ref={dialog} class="command-bar" aria-label="Command bar" onCancel={props.close}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="command-input" class="sr-only">Command</label>
        <input
          id="command-input"
          ref={input}
          type="text"
          role="combobox"
          aria-expanded={options.length > 0}
          aria-controls="command-options"
          aria-activedescendant={active >= 0 ? `command-option-${active}` : undefined}
          aria-describedby="command-error"
          autocomplete="off"
          spellcheck={false}
          placeholder={props.space ? `Command in ${props.space.name}…  (task add, claim, run…)` : "Command…"}
          value={text}
          disabled={busy}
          onInput={(e) => {
            setText((e.target as HTMLInputElement).value);
            setActive(-1);
            setError("");
          }}
          onKeyDown={onKey}
        />
        <ul id="command-options" role="listbox" aria-label="Commands and tasks">
          {options.map((o, i) => (
            <li
              key={"spec" in o ? o.spec.name : o.task.id}
              id={`command-option-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              data-task={"task" in o ? o.task.id : undefined}
              onClick={() => {
                if ("task" in o) return openTask(o.task);
                setText(o.spec.name + " ");
                input.current?.focus();
              }}
            >
              {"spec" in o
                ? (
                  <>
                    <code>{o.spec.usage}</code>
                    <span>{o.spec.help}</span>
                  </>
                )
                : (
                  <>
                    <code>{shortId(o.task.id)}</code>
                    <span>
                      {o.task.title}
                      {o.task.labels.map((l) => ` #${l}`).join("")}
                    </span>
                  </>
                )}
            </li>
          ))}
        </ul>
        <p id="command-error" class="error" role="alert">{error}</p>
      </form>
    </dialog>
  );
}

type Option = { spec: CommandSpec } | { task: TaskView };

/**
 * What the bar offers for a line: for `open …`, the tasks it finds; for
 * words that start no command, those tasks too; for the start of a
 * command, the commands; for an empty line, the commands after the tasks
 * opened lately.
 */
function suggestions(text: string, space: Space | undefined): Option[] {
  const found = findCommand(text);
  const tasks = (q: string) => (space ? searchTasks(space, q, 6).map((task) => ({ task })) : []);
  if (found?.spec.name === "open") return tasks(found.rest);
  const commands = suggest(text).map((spec) => ({ spec }));
  if (!text.trim()) return [...tasks("").slice(0, 3), ...commands].slice(0, 8);
  if (found || commands.length > 0) return commands.slice(0, 8);
  return tasks(text);
}
