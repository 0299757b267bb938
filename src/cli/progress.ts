/** A one-line progress bar on stderr (redrawn in a terminal, a line every few seconds otherwise). */
export function progressBar(total: number, label: string) {
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  return {
    update(done: number, detail: string) {
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const width = 30;
      const filled = Math.round(ratio * width);
      const line = `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.round(ratio * 100)}% ${detail}`;
      if (tty) process.stderr.write(`\r${line}\u001b[K`);
      else if (Date.now() - lastLine > 2000) {
        process.stderr.write(`${line}\n`);
        lastLine = Date.now();
      }
    },
    done() {
      if (tty) process.stderr.write("\n");
    },
  };
}
