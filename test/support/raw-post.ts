import http from "node:http";

/**
 * POSTs with node:http and resolves with the answer even when the server answers before
 * the whole body was sent (413) and the socket is closed under the writer.
 */
export function rawPost(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", (err) => {
      if (!req.writableEnded) return; // an answer may still come; 'response' resolves
      reject(err);
    });
    req.end(body);
  });
}
