import { PassThrough, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ClientError } from "../errors.js";

export interface BodyLimits {
  /** The largest body accepted (uncompressed). */
  readonly maxBytes: number;
  /** A larger body is still read (and dropped) up to this many bytes, so the 413 reaches a client that is still sending. */
  readonly drainBytes: number;
  readonly gzip: boolean;
}

const mb = (n: number) => `${Math.round((n / 1_048_576) * 10) / 10} MB`;

/**
 * A request body read under limits: at most `maxBytes` reach the parser. A body over the limit
 * is read to its end (up to `drainBytes`) and dropped, and only then refused with 413, so that
 * clients that send the whole body before reading the answer (curl, undici's fetch) get the
 * 413 instead of a broken connection. A gzip body is limited on its uncompressed size (a
 * "zip bomb" stops decompressing at the limit; the rest of the compressed bytes is drained).
 */
export function boundedBody(payload: Readable, limits: BodyLimits): Readable {
  const out = new PassThrough();
  let raw = 0;
  let decoded = 0;
  let tooLarge = false;
  let ended = false;
  const refuse = (why: string) => new ClientError(413, "body_too_large", why);
  const overLimit = () => refuse(limits.gzip
    ? `the uncompressed body is over ${limits.maxBytes} bytes (${mb(limits.maxBytes)}); send fewer events per request`
    : `the body is ${raw} bytes, over the limit of ${limits.maxBytes} bytes (${mb(limits.maxBytes)}); send fewer events per request`);
  const gunzip = limits.gzip ? createGunzip() : undefined;
  const emit = (chunk: Buffer) => {
    if (tooLarge) return;
    decoded += chunk.length;
    if (decoded > limits.maxBytes) {
      tooLarge = true;
      if (gunzip) gunzip.destroy();
      // (decompression can run past the end of the compressed input)
      if (ended) out.destroy(overLimit());
      return;
    }
    out.write(chunk);
  };
  if (gunzip) {
    gunzip.on("data", emit);
    gunzip.on("error", (err) => {
      if (!tooLarge) out.destroy(new ClientError(400, "bad_gzip", `the gzip body could not be decompressed: ${err.message}`));
    });
    gunzip.on("end", () => out.end());
  }
  payload.on("data", (chunk: Buffer) => {
    raw += chunk.length;
    if (raw > limits.drainBytes) {
      out.destroy(refuse(`the body is over ${limits.drainBytes} bytes; at most ${limits.maxBytes} bytes (${mb(limits.maxBytes)}) are accepted`));
      payload.destroy();
      return;
    }
    if (tooLarge || out.destroyed) return;
    if (gunzip) gunzip.write(chunk);
    else emit(chunk);
  });
  payload.on("end", () => {
    ended = true;
    if (out.destroyed) return;
    if (tooLarge) return void out.destroy(overLimit());
    if (gunzip) gunzip.end();
    else out.end();
  });
  payload.on("error", (err) => out.destroy(err));
  return out;
}
