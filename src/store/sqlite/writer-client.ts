import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { StoreFullError, StoreUnavailableError } from "../port.js";
import type { AppendReply, AppendRequest } from "./append-writer.js";

type WriterMessage = { kind: "written"; replies: AppendReply[] } | { kind: "failed"; ids: number[]; message: string; code?: string };

/** Waits before a dead writer thread is started again (doubling up to 5 s while it keeps dying). */
const RESPAWN_MS = 200;

/** The compiled writer thread (next to this file; from src/ under the test runner, in dist/). */
function writerScript(): URL {
  const sibling = new URL("./writer-thread.js", import.meta.url);
  return existsSync(fileURLToPath(sibling)) ? sibling : new URL("../../../dist/store/sqlite/writer-thread.js", import.meta.url);
}

/**
 * The event loop's side of the embedded store's writer thread (writer-thread.ts), which
 * commits every request waiting for it in one fsync'd transaction. `write` resolves with the
 * seq of each event (0 for a duplicate) once its transaction is durable.
 *
 * Failures: a commit that fails rejects only its requests (nothing of theirs was
 * acknowledged); a full disk rejects with StoreFullError (507) and makes `healthy()` false
 * until a commit succeeds again. A writer thread that dies rejects what it held with
 * StoreUnavailableError (503) and is started again: what it had committed is on disk, what
 * it had not was never acknowledged.
 */
export class WriterClient {
  readonly #pending = new Map<number, { resolve(seqs: number[]): void; reject(error: unknown): void }>();
  #nextId = 1;
  #writer!: Worker;
  #exited!: Promise<void>;
  #up = false;
  #closing = false;
  #respawnMs = RESPAWN_MS;
  #full: string | undefined;

  constructor(private readonly file: string, private readonly dedupeWindowMs: number) {
    this.#spawn();
  }

  #spawn(): void {
    const writer = new Worker(writerScript(), { workerData: { file: this.file, dedupeWindowMs: this.dedupeWindowMs } });
    this.#writer = writer;
    this.#up = true;
    writer.unref();
    writer.on("message", (msg: WriterMessage) => this.#onMessage(msg));
    writer.on("online", () => { this.#respawnMs = RESPAWN_MS; });
    writer.on("error", (error) => this.#died(writer, `the store's writer failed: ${error.message}`));
    this.#exited = new Promise((resolve) => writer.once("exit", () => {
      this.#died(writer, "the store's writer has stopped");
      resolve();
    }));
  }

  #died(writer: Worker, why: string): void {
    if (writer !== this.#writer || !this.#up) return;
    this.#up = false;
    const error = new StoreUnavailableError(`${why}; nothing of this request was acknowledged`);
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    if (!this.#closing) this.#respawnLater();
  }

  /** Starts a new writer after a pause (doubling while it keeps failing); never throws into a timer. */
  #respawnLater(): void {
    const delay = this.#respawnMs;
    this.#respawnMs = Math.min(this.#respawnMs * 2, 5_000);
    setTimeout(() => {
      if (this.#closing) return;
      try {
        this.#spawn();
      } catch {
        this.#up = false;
        this.#respawnLater(); // e.g. out of threads for now: appends answer 503 meanwhile
      }
    }, delay).unref();
  }

  /** Sends a request (its bodies buffer is moved, not copied); resolves with each event's seq. */
  write(request: Omit<AppendRequest, "id">): Promise<number[]> {
    if (!this.#up) return Promise.reject(new StoreUnavailableError("the store's writer is restarting; nothing of this request was acknowledged"));
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      const full: AppendRequest = { ...request, id };
      this.#writer.postMessage({ kind: "append", request: full }, [full.bodies]);
    });
  }

  #onMessage(msg: WriterMessage): void {
    if (msg.kind === "failed") {
      const full = msg.code?.startsWith("SQLITE_FULL") === true;
      if (full) this.#full = msg.message;
      const error = full ? new StoreFullError(`could not store events: ${msg.message}`)
        : /^SQLITE_(BUSY|IOERR|CANTOPEN|READONLY)/.test(msg.code ?? "") ? new StoreUnavailableError(`could not store events: ${msg.message}`)
          : new Error(`could not store events: ${msg.message}`);
      for (const id of msg.ids) {
        this.#pending.get(id)?.reject(error);
        this.#pending.delete(id);
      }
      return;
    }
    this.#full = undefined;
    for (const reply of msg.replies) {
      const p = this.#pending.get(reply.id);
      if (!p) continue;
      this.#pending.delete(reply.id);
      p.resolve(reply.seqs);
    }
  }

  /** False while the writer is down or the disk is full (for /readyz); the reason otherwise. */
  healthy(): { ok: true } | { ok: false; reason: string } {
    if (!this.#up) return { ok: false, reason: "the store's writer is restarting" };
    if (this.#full) return { ok: false, reason: `the disk is full: ${this.#full}` };
    return { ok: true };
  }

  /** Stops the writer thread as a crash would (diagnostics and tests); it is started again. */
  async terminate(): Promise<void> {
    await this.#writer.terminate();
  }

  /** Waits for every write requested so far, then stops the writer (used when closing). */
  async drain(): Promise<void> {
    this.#closing = true;
    while (this.#pending.size > 0 && this.#up) await new Promise((r) => setTimeout(r, 1));
    if (!this.#up) return;
    this.#writer.ref(); // keep the process up until the writer has closed the file
    this.#writer.postMessage({ kind: "close" });
    await this.#exited;
  }
}
