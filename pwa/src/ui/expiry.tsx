/** Fields of every delegation and invite form: how long it lasts, and the name it gives its holder. */
export const EXPIRIES: [string, number | null][] = [
  ["never", null],
  ["1 hour", 3600],
  ["1 day", 86400],
  ["7 days", 7 * 86400],
  ["30 days", 30 * 86400],
];

/** Unix seconds when a choice made now lapses (null: never). */
export function expiration(choice: number): number | null {
  const secs = EXPIRIES[choice][1];
  return secs === null ? null : Math.floor(Date.now() / 1000) + secs;
}

export function ExpirySelect(props: { id: string; value: number; onChange(i: number): void }) {
  return (
    <select
      id={props.id}
      value={props.value}
      onChange={(e) => props.onChange(Number((e.target as HTMLSelectElement).value))}
    >
      {EXPIRIES.map(([label], i) => <option key={label} value={i}>{label}</option>)}
    </select>
  );
}

/** The holder's display name (recorded in the delegation's meta). */
export function NameField(props: { value: string; onChange(name: string): void }) {
  return (
    <label>
      <span>Name</span>{" "}
      <input value={props.value} maxLength={64} onInput={(e) => props.onChange((e.target as HTMLInputElement).value)} />
    </label>
  );
}
