/**
 * A one-line progress bar for long transfers, redrawn at most ten times a
 * second on a terminal (and silent when output is not one, so logs and
 * pipes stay clean): label, bar, percent, bytes and rate.
 */
export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const MB = 1024 * 1024;

export function progressBar(label: string, sink: ProgressSink, now: () => number = Date.now): Progress {
  const started = now();
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number) => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const width = Math.max(10, Math.min(40, (sink.columns ?? 80) - label.length - 45));
    const filled = Math.round(fraction * width);
    sink.write(
      `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${(done / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB ${(done / MB / seconds).toFixed(1)} MB/s`,
    );
    drawn = true;
  };
  return {
    update(done, total) {
      if (!sink.isTTY) return;
      const t = now();
      if (t - last < 100 && done < total) return;
      last = t;
      draw(done, total);
    },
    finish() {
      if (drawn) sink.write("\n");
    },
  };
}
