/**
 * The command bar (Ctrl+K): one line such as `task add Fix the flaky test
 * #ci` or `claim 3fa`, run against the open space. Suggestions follow the
 * typing (arrow keys to pick, Tab to complete); a refusal stays in the bar
 * with its reason, a success closes it and is announced.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { runCommand, suggest } from "../model/commands.ts";
import { navigate } from "../model/route.ts";
import { useApp } from "./context.ts";

export function CommandBar(props: { open: boolean; space?: Space; close(): void }) {
  const { bn, notify } = useApp();
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [active, setActive] = useState(-1);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (props.open && !d.open) {
      d.showModal();
      setError("");
      input.current?.focus();
    } else if (!props.open && d.open) d.close();
  }, [props.open]);

  const options = suggest(text).slice(0, 8);

  const submit = async () => {
    if (!text.trim()) {
      if (options[active]) setText(options[active].name + " ");
      return;
    }
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
    } else if (e.key === "Tab" && options[Math.max(active, 0)] && !text.includes(" ")) {
      e.preventDefault();
      setText(options[Math.max(active, 0)].name + " ");
    }
  };

  return (
    <dialog ref={dialog} class="command-bar" aria-label="Command bar" onClose={props.close}>
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
        <ul id="command-options" role="listbox" aria-label="Commands">
          {options.map((c, i) => (
            <li
              key={c.name}
              id={`command-option-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onClick={() => {
                setText(c.name + " ");
                input.current?.focus();
              }}
            >
              <code>{c.usage}</code>
              <span>{c.help}</span>
            </li>
          ))}
        </ul>
        <p id="command-error" class="error" role="alert">{error}</p>
      </form>
    </dialog>
  );
}
