/**
 * Opening an invite link (`#/join?invite=weft-invite:…`): the invite fills
 * the form and is taken out of the address bar and history at once, since
 * anyone holding it can join. A later link, opened while this page is up,
 * replaces it.
 */
import { useEffect, useState } from "preact/hooks";
import { navigate } from "../../model/route.ts";
import { JoinForm } from "../space-forms.tsx";

export function Join(props: { invite?: string }) {
  const [invite, setInvite] = useState(props.invite);
  // Each link opened replaces what an earlier one filled in (the form starts over with it).
  useEffect(() => {
    if (!props.invite) return;
    setInvite(props.invite);
    navigate("#/join", true);
  }, [props.invite]);
  return (
    <section class="stack narrow">
      <JoinForm key={invite} initial={invite} />
    </section>
  );
}
