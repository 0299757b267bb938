/**
 * Events' bodies UTF-8 encoded one after the other in one buffer of its own (`bodyEnds[i]` is
 * where body i ends): moved to the embedded store's writer thread without a copy, or sent to
 * PostgreSQL as one bytea that the append statement slices (no JSON for it to parse).
 */
export function packBodies(bodies: readonly string[]): { bodies: ArrayBuffer; bodyEnds: Uint32Array } {
  let chars = 0;
  for (const b of bodies) chars += b.length;
  // A UTF-16 code unit is at most 3 UTF-8 bytes; a buffer of its own can be transferred.
  const buf = Buffer.allocUnsafeSlow(chars * 3);
  const bodyEnds = new Uint32Array(bodies.length);
  let at = 0;
  bodies.forEach((b, i) => {
    at += buf.write(b, at);
    bodyEnds[i] = at;
  });
  return { bodies: buf.buffer as ArrayBuffer, bodyEnds };
}
