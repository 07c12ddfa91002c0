// A one-line progress bar (cli-progress) on stderr, so stdout stays clean for --json; none when stderr is not a
// terminal or WEFT_NO_PROGRESS=1, so logs and pipes get no carriage-return noise.
import { Format, SingleBar } from 'cli-progress';

export interface ProgressBar {
  /** `total` null (or 0) while it is not known yet: the count alone is shown. */
  update(done: number, total: number | null): void;
  /** Ends the line; safe to call when nothing was drawn, and more than once. */
  done(): void;
}

export function progressBar(label: string): ProgressBar {
  if (process.stderr.isTTY !== true || process.env.WEFT_NO_PROGRESS === '1') {
    return { update: () => undefined, done: () => undefined };
  }
  const bar = new SingleBar({
    stream: process.stderr,
    barsize: 30,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    // The default switches the terminal's line wrapping off until stop(): a crash would leave it off.
    linewrap: true,
    format: (options, params, payload) =>
      payload['counting']
        ? `${label} ${params.value}`
        : `${label} [${Format.BarFormat(params.progress, options)}] ${params.value}/${params.total}`,
  });
  let started = false;
  return {
    update: (done, total) => {
      const payload = { counting: !total };
      if (!started) {
        started = true;
        bar.start(total ?? 0, done, payload);
        return;
      }
      if (total) bar.setTotal(total);
      bar.update(done, payload);
    },
    done: () => bar.stop(),
  };
}
