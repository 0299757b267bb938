import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { rawPost } from "../support/raw-post.js";
import { INGEST, closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";

/**
 * Hostile and drifting input at ingest (SPEC sections 3 and 4): every problem named, nothing
 * valid lost, never a 5xx, nothing that lets one event take the service down.
 */
const use = closedAfterEach();
const TYPE = "users.messages.email.Open";
/** A value nested `levels` deep, as JSON text (JSON.stringify itself overflows the stack on deep values). */
const deepText = (levels: number) => `${'{"a":'.repeat(levels)}"bottom"${"}".repeat(levels)}`;
const withDeep = (event: Record<string, unknown>, levels: number) => JSON.stringify({ ...event, nest: "@@" }).replace('"@@"', deepText(levels));

describe("ingest under hostile input", () => {
  it("refuses an event nested deeper than 64 levels by name, keeps the others, and a Current with transformations goes on", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { transformations: [{ field: "email_address", action: "hash" }] });
    const ok = sampleEvent(TYPE, { id: "ok-1" });
    const tooDeep = withDeep(sampleEvent(TYPE, { id: "deep-1" }), 4_200);
    const limit = withDeep(sampleEvent(TYPE, { id: "deep-ok" }), 62); // the event object is level 1
    const res = await svc.call("POST", "/v1/events", `{"events":[${JSON.stringify(ok)},${tooDeep},${limit}]}`, INGEST);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([{ index: 1, error: expect.stringMatching(/nested deeper than 64 levels/) }]);
    await waitFor(() => receiver.events().length === 2, 10_000, "the two valid events");
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats).toMatchObject({ delivered: 2, pending: 0 });
  });

  it("refuses a 5 MB body of nested arrays with one linear scan (400, the event named), not a parse", async () => {
    const svc = await use.service();
    const n = 2_500_000;
    const res = await rawPost(`${svc.url}/v1/events`, `{"events":[${"[".repeat(n)}${"]".repeat(n)}]}`, { authorization: `Bearer ${INGEST}`, "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ accepted: 0, rejected: [{ index: 0, error: expect.stringMatching(/nested deeper than 64/) }], error: { code: "all_rejected" } });
  });

  it("keeps the valid events of a body the slicer cannot read (a second \"events\" key, an escaped key)", async () => {
    const svc = await use.service();
    const good = sampleEvent(TYPE, { id: "twice-good" });
    const text = `{"events":[1],"ev\\u0065nts":[${JSON.stringify(good)},${withDeep(sampleEvent(TYPE, { id: "twice-deep" }), 100)}]}`;
    const res = await svc.call("POST", "/v1/events", text, INGEST);
    expect(res.status).toBe(400); // the body as a whole nests too deep outside the slicer's reach: refused by name
    expect(res.body.error.message).toMatch(/nested deeper than 64/);
    // Depth outside the events is refused whole too, before parsing.
    const meta = await svc.call("POST", "/v1/events", `{"meta":${deepText(100_000)},"events":[${JSON.stringify(good)}]}`, INGEST);
    expect(meta.status).toBe(400);
    expect(meta.body.error.code).toBe("too_deep");
    const text2 = `{"events":[1],"events":[${JSON.stringify(good)},${withDeep(sampleEvent(TYPE, { id: "twice-shallow" }), 10)}]}`;
    const res2 = await svc.call("POST", "/v1/events", text2, INGEST);
    expect(res2.status).toBe(200);
    expect(res2.body.accepted).toBe(2);
  });

  it("refuses half a surrogate pair by name (PostgreSQL's json cannot hold it) and milliseconds for seconds", async () => {
    const svc = await use.service();
    const good = sampleEvent(TYPE, { id: "s-good" });
    const lone = JSON.stringify({ ...good, id: "s-lone", properties: { ...(good.properties as object), note: "cut emoji" } }).replace("cut emoji", "\\ud83d");
    const pair = JSON.stringify({ ...good, id: "s-pair", properties: { ...(good.properties as object), note: "whole" } }).replace("whole", "\\ud83d\\ude00");
    const ms = JSON.stringify({ ...good, id: "s-ms", time: Date.now() });
    const res = await svc.call("POST", "/v1/events", `{"events":[${JSON.stringify(good)},${lone},${pair},${ms}]}`, INGEST);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([
      { index: 1, id: "s-lone", error: expect.stringMatching(/half of a surrogate pair/) },
      { index: 3, id: "s-ms", error: expect.stringMatching(/looks like milliseconds/) },
    ]);
  });

  it("accepts a missing catalog-required field with a warning, refuses it for a strict key or workspace, names every problem, and answers 400 when all are refused", async () => {
    const svc = await use.service();
    const drifted = { ...sampleEvent(TYPE, { id: "d-1" }), user: {} };
    const lax = await svc.ingest([drifted]);
    expect(lax.status).toBe(200);
    expect(lax.body).toMatchObject({ accepted: 1, rejected: [], warnings: [{ index: 0, id: "d-1", type: TYPE, warning: "missing catalog-required field user.user_id" }] });
    const strictKey = (await svc.admin("POST", "/api/v1/ingest-keys", { workspace: "default", strict: true })).body.key as string;
    const refused = await svc.ingest([{ ...drifted, id: "d-2", time: "x", properties: { email_address: 5 } }], strictKey);
    expect(refused.status).toBe(400);
    expect(refused.body.accepted).toBe(0);
    const error = refused.body.rejected[0].error as string;
    for (const p of ["time", "properties.email_address", "user.user_id"]) expect(error).toContain(p);
    expect((await svc.admin("PATCH", "/api/v1/workspaces/default", { strict: true })).body).toEqual({ id: "default", strict: true });
    expect((await svc.ingest([{ ...drifted, id: "d-3" }])).status).toBe(400);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/currents_ingest_warnings_total\{event_type="users.messages.email.Open"\} 1/);
  });

  it("charges the rate limit by the body's size too: a huge one-event body is not one event", async () => {
    const svc = await use.service({ config: { ingestRateLimit: 100 } }); // bursts to 200
    const big = { ...sampleEvent(TYPE, { id: "big-1" }), pad: "x".repeat(600_000) }; // ~146 events' worth of body
    expect((await svc.ingest([big])).status).toBe(200);
    const again = await svc.ingest([{ ...big, id: "big-2" }]);
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe("rate_limited");
    // Refused before the body is parsed: a key over its limit costs no parse, even of a malformed body.
    const unparsed = await svc.call("POST", "/v1/events", `{"events":[{"id":"x"}], "pad": "${"y".repeat(600_000)}", nope}`, INGEST);
    expect(unparsed.status).toBe(429);
  });

  it("answers 413 (not 429) to an events array of 400,000 elements, whatever the rate limit", async () => {
    const svc = await use.service({ config: { ingestRateLimit: 10 } });
    const res = await rawPost(`${svc.url}/v1/events`, `{"events":[${Array.from({ length: 400_000 }, () => "0").join(",")}]}`, { authorization: `Bearer ${INGEST}`, "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/400000 events in one request; at most 1000/);
  });

  it("gets the 413 of a 6 MB body through to undici's fetch, which sends it all before reading, with the limit stated", async () => {
    const svc = await use.service();
    const res = await fetch(`${svc.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${INGEST}`, "content-type": "application/json" }, body: "x".repeat(6 * 1024 * 1024) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("body_too_large");
    expect(body.error.message).toMatch(/over the limit of 5242880 bytes \(5 MB\)/);
  });

  it("lists a dead letter of any depth (stored before depth limits existed) without a 500", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    const body = withDeep({ ...sampleEvent(TYPE, { id: "legacy" }), big: 1 }, 5_000).replace('"big":1', '"big":12345678901234567890');
    await svc.app.services.store.deadLetters.add([{ currentId: id, seq: 1, body, status: 400, reason: "refused", excerpt: "", createdAt: Date.now() }]);
    const res = await fetch(`${svc.url}/api/v1/currents/${id}/dead-letters`, { headers: { authorization: "Bearer test-admin-token-0123456789" } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"big":12345678901234567890');
    expect(text).toContain('"id":"legacy"');
  });
});
