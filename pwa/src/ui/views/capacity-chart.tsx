/**
 * A small live line chart: one line per node over the last minutes, drawn
 * in SVG from the samples the capacity log keeps. The figures it shows are
 * also in the table beside it, so the chart is described, not read out.
 * The axis goes to `max` (the scale's natural top, e.g. 100 % × cores) or
 * higher when a sample is above it (load can exceed the cores): a value is
 * never drawn past the axis or clipped to it.
 */
import { HISTORY_MS, type Sample } from "../../model/capacity.ts";

const WIDTH = 560;
const HEIGHT = 160;
const PAD = 28;

export function CapacityChart(props: {
  title: string;
  unit: string;
  series: { node: string; label: string; samples: readonly Sample[] }[];
  value(s: Sample): number;
  /** The axis's top, unless a sample is higher. */
  max?: number;
  now: number;
}) {
  const { series, value, now } = props;
  const all = series.flatMap((s) => s.samples.map(value));
  const top = Math.max(1, ...all);
  const max = props.max !== undefined && top <= props.max ? props.max : top * 1.1;
  const x = (at: number) => PAD + ((at - (now - HISTORY_MS)) / HISTORY_MS) * (WIDTH - 2 * PAD);
  const y = (v: number) => HEIGHT - PAD - (v / max) * (HEIGHT - 2 * PAD);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        data-axis-max={max}
        role="img"
        aria-label={`${props.title}, last ten minutes`}
      >
        <line x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} class="axis" />
        <line x1={PAD} y1={PAD} x2={PAD} y2={HEIGHT - PAD} class="axis" />
        <text x={PAD - 4} y={PAD + 4} class="tick" text-anchor="end">{fmt(max)}</text>
        <text x={PAD - 4} y={HEIGHT - PAD} class="tick" text-anchor="end">0</text>
        <text x={PAD} y={HEIGHT - 8} class="tick">−10 min</text>
        <text x={WIDTH - PAD} y={HEIGHT - 8} class="tick" text-anchor="end">now</text>
        {series.map((s, i) => {
          const last = s.samples[s.samples.length - 1];
          return (
            <g key={s.node} class={`l${i % 6}`}>
              <polyline
                class={`line l${i % 6}`}
                points={s.samples.map((p) => `${x(p.at).toFixed(1)},${y(value(p)).toFixed(1)}`).join(" ")}
              />
              {last && <circle class={`dot l${i % 6}`} cx={x(last.at)} cy={y(value(last))} r="3" />}
            </g>
          );
        })}
      </svg>
      <ul class="legend">
        {series.map((s, i) => (
          <li key={s.node} data-value={s.samples.length > 0 ? value(s.samples[s.samples.length - 1]) : undefined}>
            <span class={`swatch l${i % 6}`} aria-hidden="true" /> {s.label}
            {s.samples.length > 0 && ` — ${fmt(value(s.samples[s.samples.length - 1]))} ${props.unit}`}
          </li>
        ))}
      </ul>
    </figure>
  );
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toString() : (Math.round(n * 10) / 10).toString();
}
