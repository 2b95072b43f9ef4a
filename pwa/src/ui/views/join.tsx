/**
 * Opening an invite link (`#/join?invite=weft-invite:…`): the invite fills
 * the form and is taken out of the address bar and history at once, since
 * anyone holding it can join.
 */
import { useEffect, useState } from "preact/hooks";
import { navigate } from "../../model/route.ts";
import { JoinForm } from "../space-forms.tsx";

export function Join(props: { invite?: string }) {
  const [invite] = useState(props.invite);
  useEffect(() => {
    if (props.invite) navigate("#/join", true);
  }, []);
  return (
    <section class="stack narrow">
      <JoinForm initial={invite} />
    </section>
  );
}
