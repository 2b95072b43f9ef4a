/**
 * A task's history: every signed operation that shaped it, with its author,
 * time (the author's hybrid clock) and what it said, read from the signed
 * record itself; then the operations about it that were refused, and why.
 */
import type { WeftNode } from "#protocol/node";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { describeOp, readOp, refusalsOf } from "../../model/op-details.ts";
import { dateTime, who } from "../format.ts";

export function TaskHistory(props: { node: WeftNode; space: Space; task: TaskView; names: Map<string, string> }) {
  const { node, space, task, names } = props;
  const refused = refusalsOf(node, space, task.id);
  return (
    <>
      <div class="table-wrap">
        <table class="history">
          <caption class="sr-only">Signed operations on this task, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col" class="wide">Operation</th>
            </tr>
          </thead>
          <tbody>
            {task.history.map((h) => {
              const inv = readOp(node, space, task.id, h.op);
              return (
                <tr key={h.op}>
                  <td>{dateTime(h.at[0])}</td>
                  <td>
                    <span title={h.author}>{who(h.author, names, node.did)}</span>
                  </td>
                  <td>{inv ? describeOp(inv) : h.kind}</td>
                  <td class="wide">
                    <code title={h.op}>{h.op.slice(-10)}</code>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {refused.length > 0 && (
        <>
          <h3>Refused</h3>
          <ul class="refusals">
            {refused.map((r) => (
              <li key={r.what + r.at}>
                <strong>{describeOp(r.inv)}</strong> by {r.from ? who(r.from, names, node.did) : "?"}
                {" — "}
                {r.reason} <code>{r.code}</code>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
