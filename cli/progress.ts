// A one-line progress bar on stderr, so stdout stays clean for --json.
export function progressBar(label: string): {
  update(done: number, total: number | null): void;
  done(): void;
} {
  const interactive = process.stderr.isTTY === true && process.env.WEFT_NO_PROGRESS !== '1';
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      const width = 30;
      const bar =
        total && total > 0
          ? `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width, '.')}] ${done}/${total}`
          : `${done}`;
      if (interactive) process.stderr.write(`\r${label} ${bar}`);
    },
    done() {
      if (interactive) process.stderr.write('\n');
    },
  };
}
