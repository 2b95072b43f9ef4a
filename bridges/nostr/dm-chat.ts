/**
 * Free text from a paired person (a DM that is no command) answered by a
 * model through the host's LLM router, under the route `nostr-dm` (the
 * `default` route when weft.toml names none). The model sees what the
 * person may see — their spaces' unfinished tasks, open patches and pending
 * requests — and the commands; it cannot act: what it suggests, the person
 * does with a command. Each call is counted against the person's calls for
 * the day and the day's money for DMs (model-ledger.ts) before it is made.
 */
import type { BridgeContext, BridgeSpace } from "#protocol/bridge";
import { isWeftError } from "#protocol";
import { HELP } from "./commands.ts";
import type { ModelLedger } from "./model-ledger.ts";

/** The route DM answers take (`[llm.routes] nostr-dm = [...]`). */
export const DM_TASK_KIND = "nostr-dm";
/** The longest DM handed to the model, and the longest answer it may write. */
const MAX_INPUT_CHARS = 4_000;
const MAX_OUTPUT_TOKENS = 600;
/** What the context lists of each space. */
const LISTED = 10;

function contextOf(spaces: BridgeSpace[]): string {
  return spaces.map((s) => {
    const tasks = s.tasks({ status: ["open", "claimed", "running", "review"] }).slice(0, LISTED)
      .map((t) => `  task ${t.id.slice(0, 6)} ${t.status}: ${t.title}`);
    const patches = s.patches().filter((p) => p.status === "open").slice(0, LISTED)
      .map((p) => `  patch ${p.id.slice(0, 8)} (${p.repo}): ${p.title}`);
    const requests = s.approvals().filter((r) => r.status === "pending").slice(0, LISTED)
      .map((r) =>
        `  request ${r.id.slice(0, 8)} (${r.kind}) waits for approval: ${r.plan.split("\n")[0].slice(0, 160)}`
      );
    return [`space ${s.name}:`, ...tasks, ...patches, ...requests].join("\n");
  }).join("\n");
}

/** The model's answer to `text` from `person`, or a plain answer saying why there is none. */
export async function chatByDm(
  context: BridgeContext,
  spaces: BridgeSpace[],
  person: string,
  text: string,
  ledger: ModelLedger,
): Promise<string> {
  if (!context.llm) {
    return `This peer has no model to talk to ([llm] in its weft.toml), so I only take commands.\n${HELP}`;
  }
  try {
    await ledger.begin(person);
    const result = await context.llm.call({
      taskKind: DM_TASK_KIND,
      maxOutputTokens: MAX_OUTPUT_TOKENS,
      messages: [
        {
          role: "system",
          content: "You answer a person who writes to their Weft mesh by Nostr DM from their phone. Be brief: " +
            "a few lines of plain text. You cannot act; to act they send one of these commands:\n" + HELP +
            `\n\nWhat they can see now:\n${contextOf(spaces)}`,
        },
        { role: "user", content: text.slice(0, MAX_INPUT_CHARS) },
      ],
    }, ledger.hook());
    return result.text.trim() || "(the model gave no answer)";
  } catch (e) {
    if (!isWeftError(e)) throw e;
    context.log.warn("a DM's model call failed", { bridge: context.name, person, error: e.message });
    return e.code === "budget/exhausted" ? e.message : `The model could not answer (${e.message}). Try again later.`;
  }
}
