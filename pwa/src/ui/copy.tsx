/** A value people need to hand to someone else (a DID, an invite), with a button that copies it. */
import { useState } from "preact/hooks";

export function CopyText(props: { value: string; label: string; multiline?: boolean }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="copy">
      {props.multiline
        ? <textarea readOnly aria-label={props.label} value={props.value} rows={3} />
        : <input readOnly aria-label={props.label} value={props.value} />}
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard.writeText(props.value);
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
