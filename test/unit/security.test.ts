import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { applyTransformations, REDACTED } from "../../src/delivery/transformations.js";
import { credentialMatches, hashCredential, maskSecret } from "../../src/security/credentials.js";
import { SecretBox } from "../../src/security/secret-box.js";
import { checkEndpointUrl, isPrivateAddress } from "../../src/security/ssrf-guard.js";

describe("secret box", () => {
  it("round-trips, never stores the clear text, and refuses another key or context", () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal("heap-token-1234", "current-1");
    expect(sealed).not.toContain("heap-token");
    expect(box.open(sealed, "current-1")).toBe("heap-token-1234");
    expect(() => box.open(sealed, "current-2")).toThrow(/decrypted/);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, "current-1")).toThrow(/decrypted/);
  });
});

describe("credentials", () => {
  it("match only the right value, and mask to at most 4 characters and at most a quarter of the secret", () => {
    const h = hashCredential("secret-value-1");
    expect(credentialMatches("secret-value-1", h)).toBe(true);
    expect(credentialMatches("secret-value-2", h)).toBe(false);
    expect(maskSecret("abcdefghijklmnop")).toBe("****mnop");
    expect(maskSecret("abcdefghijklmnopqrstuvwxyz")).toBe("****wxyz");
    expect(maskSecret("abcdefgh")).toBe("****gh");
    expect(maskSecret("abc")).toBe("****");
    expect(maskSecret("x")).toBe("****");
  });
});

describe("SSRF guard", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
    "::1", "::", "fc00::1", "fd12::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "ff02::1"])("refuses %s", (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });
  it.each(["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("lets %s through", (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });
  it("checks endpoint URLs when they are saved", () => {
    expect(checkEndpointUrl("https://heapanalytics.example/hook", false)).toBeUndefined();
    expect(checkEndpointUrl("http://heapanalytics.example/hook", false)).toMatch(/https/);
    expect(checkEndpointUrl("ftp://x.example/", true)).toMatch(/https/);
    expect(checkEndpointUrl("https://127.0.0.1/hook", false)).toMatch(/private/);
    expect(checkEndpointUrl("https://[::1]/hook", false)).toMatch(/private/);
    expect(checkEndpointUrl("https://localhost/hook", false)).toMatch(/local/);
    expect(checkEndpointUrl("http://127.0.0.1:9/hook", true)).toBeUndefined();
    expect(checkEndpointUrl("not a url", true)).toMatch(/absolute URL/);
  });
});

describe("field transformations", () => {
  it("removes and hashes fields wherever the catalog puts them, leaving other events untouched", () => {
    const body = JSON.stringify({ event_type: "x", id: "1", time: 1, user: { user_id: "u", external_user_id: "ext" }, properties: { email_address: "A@b.c", campaign_id: "c" } });
    const out = JSON.parse(applyTransformations(body, [{ field: "email_address", action: "hash" }, { field: "external_user_id", action: "remove" }]));
    // sha256("A@b.c"), computed with sha256sum
    expect(out.properties.email_address).toBe("acc4621e62d040490830c1fb4045141a49ec65e67edfbb94c92630421fa6cd64");
    expect(out.user.external_user_id).toBe(REDACTED);
    expect(out.properties.campaign_id).toBe("c");
    expect(applyTransformations(body, [{ field: "phone_number", action: "remove" }])).toBe(body);
  });
});

describe("SSRF guard: CIDR allow-list", () => {
  const policy = { allowPrivate: false, allowedCidrs: ["10.20.0.0/16", "fd00:1::/32"] };
  it("lets private addresses inside the allowed blocks through, and only those", async () => {
    const { isRefusedAddress, guardedLookup } = await import("../../src/security/ssrf-guard.js");
    expect(isRefusedAddress("10.20.3.4", policy)).toBe(false);
    expect(isRefusedAddress("::ffff:10.20.3.4", policy)).toBe(false);
    expect(isRefusedAddress("fd00:1::5", policy)).toBe(false);
    expect(isRefusedAddress("10.21.0.1", policy)).toBe(true);
    expect(isRefusedAddress("127.0.0.1", policy)).toBe(true);
    expect(isRefusedAddress("169.254.169.254", policy)).toBe(true);
    expect(checkEndpointUrl("https://10.20.3.4/hook", policy)).toBeUndefined();
    expect(checkEndpointUrl("https://10.99.0.1/hook", policy)).toMatch(/private/);
    expect(checkEndpointUrl("http://10.20.3.4/hook", policy)).toMatch(/https/);
    // At connect time too: "localhost" resolves to loopback, refused unless its block is allowed.
    const resolve = (p: typeof policy) => new Promise<string>((res) =>
      guardedLookup(p)("localhost", { family: 4 }, (err, address) => res(err ? `refused: ${err.message}` : String(address))));
    expect(await resolve(policy)).toMatch(/refused: localhost resolves to a private or reserved address/);
    expect(await resolve({ allowPrivate: false, allowedCidrs: ["127.0.0.0/8"] })).toBe("127.0.0.1");
  });

  it("reports a malformed block at start-up", async () => {
    const { loadConfig } = await import("../../src/config.js");
    expect(() => loadConfig({}, { CURRENTS_ALLOWED_CIDRS: "10.0.0.0/8, nonsense" })).toThrow(/"nonsense" is not a CIDR block/);
    expect(loadConfig({}, { CURRENTS_ALLOWED_CIDRS: "10.0.0.0/8,fd00::/8" }).allowedCidrs).toEqual(["10.0.0.0/8", "fd00::/8"]);
  });
});
