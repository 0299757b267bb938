import { Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ClientError } from "../errors.js";

/**
 * Decompresses a gzip request body (Content-Encoding: gzip), refusing with 413 once the
 * uncompressed size passes `maxBytes`, so a small "zip bomb" cannot fill memory.
 */
export function gunzipBody(payload: Readable, maxBytes: number): Readable {
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) return done(new ClientError(413, "body_too_large", `the uncompressed body is over ${maxBytes} bytes`));
      done(null, chunk);
    },
  });
  const gunzip = createGunzip();
  gunzip.on("error", (err) => limiter.destroy(new ClientError(400, "bad_gzip", `the gzip body could not be decompressed: ${err.message}`)));
  payload.on("error", (err) => limiter.destroy(err));
  return payload.pipe(gunzip).pipe(limiter);
}
