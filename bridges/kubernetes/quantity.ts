/**
 * Kubernetes resource quantities ("500m", "1.5", "16Gi", "129M", "1e3") as
 * numbers in their base unit, for summing what nodes offer and pods ask.
 * A quantity that does not parse counts as zero rather than poisoning a sum:
 * the API server has already validated what it stores.
 */
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

export function quantity(text: string | undefined): number {
  if (text === undefined) return 0;
  const m = QUANTITY.exec(text.trim());
  if (!m) return 0;
  const value = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : SUFFIX[m[3] ?? ""]);
  return Number.isFinite(value) ? value : 0;
}
