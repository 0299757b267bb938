import { afterEach, describe, expect, it } from "vitest";
import { type Service, launchCurrent, startService, waitFor } from "../support/harness.js";
import { createDatabase, dropDatabase } from "../support/postgres.js";
import { startReceiver } from "../support/receiver.js";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { simulateHeapCohortSync } from "../../src/simulator/heap-cohort-sync.js";

/**
 * Heap's cohorts into Currents (SPEC section 15), on both stores: the Partner Cohort Import
 * API with its documented shapes and every error, idempotency, concurrent changes to one
 * cohort, a 1,000,000-member cohort paged through, a user's cohorts, and the cohort events
 * delivered to a custom HTTP Current.
 */
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe.each(["embedded", "postgres"] as const)("Heap cohorts on the %s store", (kind) => {
  const start = async (config: Record<string, unknown> = {}): Promise<Service> => {
    let extra: Record<string, unknown> = {};
    if (kind === "postgres") {
      const db = await createDatabase();
      cleanup.push(() => dropDatabase(db.name));
      extra = { databaseUrl: db.url, masterKey: "ab".repeat(32) };
    }
    const svc = await startService({ config: { ...extra, ...config } });
    cleanup.push(() => svc.close());
    return svc;
  };
  const importKey = async (svc: Service, workspace = "default") => {
    const created = await svc.admin("POST", "/api/v1/data-import-keys", { workspace });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.key as string;
  };
  const post = (svc: Service, path: string, body: unknown) => svc.call("POST", path, body, "unused");

  it("creates and renames cohorts, adds and removes members idempotently, answers every error by name, and tells which cohorts a user is in", async () => {
    const svc = await start();
    const key = await importKey(svc);
    // Keys: shown once, then masked; stored hashed.
    const listed = await svc.admin("GET", "/api/v1/data-import-keys");
    expect(listed.body.keys).toHaveLength(1);
    expect(listed.body.keys[0].key).not.toContain(key.slice(0, 12));

    const cohort = { client_secret: key, cohort_id: "1001", name: "Churn risk", created_at: "2026-11-01T10:00:00Z" };
    expect(await post(svc, "/partners/heap/cohorts", cohort)).toMatchObject({ status: 201, body: { message: "success", cohort_id: "1001", name: "Churn risk" } });
    expect((await post(svc, "/partners/heap/cohorts", { ...cohort, name: "Churn risk (30 d)" })).status).toBe(201);
    const change = (cohort_changes: unknown[], over: Record<string, unknown> = {}) => post(svc, "/partners/heap/cohorts/users", { client_secret: key, cohort_id: 1001, cohort_changes, ...over });
    const add = await change([{ user_ids: ["u1", "u2", "u3"], device_ids: ["d1"], aliases: [{ alias_name: "a@x.io", alias_label: "email" }] }]);
    expect(add).toMatchObject({ status: 201, body: { message: "success", joined: 5, left: 0, size: 5 } });
    // The same request again changes nothing.
    expect((await change([{ user_ids: ["u1", "u2", "u3"], device_ids: ["d1"], aliases: [{ alias_name: "a@x.io", alias_label: "email" }] }])).body).toMatchObject({ joined: 0, left: 0, size: 5 });
    expect((await change([{ user_ids: ["u2"], should_remove: true }, { user_ids: ["u4"] }])).body).toMatchObject({ joined: 1, left: 1, size: 5 });
    expect((await change([{ user_ids: ["u2", "nobody"], should_remove: true }])).body).toMatchObject({ joined: 0, left: 0, size: 5 });

    const list = await svc.admin("GET", "/api/v1/cohorts?search=churn");
    expect(list.body.cohorts).toEqual([expect.objectContaining({ partner: "heap", cohortId: "1001", name: "Churn risk (30 d)", size: 5, workspace: "default" })]);
    const id = list.body.cohorts[0].id as string;
    const one = await svc.admin("GET", `/api/v1/cohorts/${id}`);
    expect(one.body.history.map((h: { joined: number; left: number; sizeAfter: number }) => [h.joined, h.left, h.sizeAfter])).toEqual([[1, 1, 5], [5, 0, 5], [0, 0, 0], [0, 0, 0]]);
    const members = await svc.admin("GET", `/api/v1/cohorts/${id}/members?limit=10`);
    expect(members.status, JSON.stringify(members.body)).toBe(200);
    expect(members.body.members.map((m: { kind: string; id?: string; alias?: unknown }) => [m.kind, m.id ?? m.alias])).toEqual([
      ["alias", { alias_name: "a@x.io", alias_label: "email" }], ["device", "d1"], ["user", "u1"], ["user", "u3"], ["user", "u4"],
    ]);
    expect((await svc.admin("GET", "/api/v1/users/u1/cohorts")).body.cohorts).toEqual([expect.objectContaining({ id, name: "Churn risk (30 d)" })]);
    expect((await svc.admin("GET", "/api/v1/users/u2/cohorts")).body.cohorts).toEqual([]);
    expect((await svc.admin("GET", "/api/v1/users/d1/cohorts?kind=device")).body.cohorts).toHaveLength(1);
    expect((await svc.admin("GET", "/api/v1/users/a%40x.io/cohorts?kind=alias&label=email")).body.cohorts).toHaveLength(1);
    expect((await svc.admin("GET", "/api/v1/users/a%40x.io/cohorts?kind=alias")).status).toBe(400);

    // Errors: each names what is wrong.
    const err = async (res: Promise<{ status: number; body: Record<string, any> }>, status: number, field?: RegExp) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const r = await res;
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      if (field) expect(`${r.body.error.field ?? ""} ${r.body.error.message}`).toMatch(field);
    };
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, client_secret: "cur_import_wrong" }), 401, /client_secret/);
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, cohort_id: "" }), 400, /cohort_id/);
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, cohort_id: { x: 1 } }), 400, /cohort_id/);
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, name: "" }), 400, /name/);
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, name: undefined }), 400, /name/);
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, created_at: "last tuesday" }), 400, /created_at/);
    await err(post(svc, "/partners/heap/cohorts", { ...cohort, created_at: "2026-13-45T00:00:00Z" }), 400, /created_at/);
    await err(post(svc, "/partners/HEAP!/cohorts", cohort), 400, /partner/);
    await err(change([{ user_ids: Array.from({ length: 600 }, (_, i) => `x${i}`), device_ids: Array.from({ length: 401 }, (_, i) => `d${i}`) }]), 400, /1,000 ids.*1,001/);
    await err(change([{ user_ids: [""] }]), 400, /cohort_changes/);
    await err(change([]), 400, /cohort_changes/);
    await err(change([{ user_ids: ["u9"] }], { cohort_id: "404404" }), 400, /cohort_id.*create it first/);
    await err(change([{ user_ids: "u9" }]), 400, /user_ids/);
    await err(svc.call("POST", "/partners/heap/cohorts/users", "{not json", "unused"), 400, /JSON/);
    // Exactly 1,000 ids is fine.
    expect((await change([{ user_ids: Array.from({ length: 1_000 }, (_, i) => `bulk${i}`) }])).body).toMatchObject({ joined: 1_000, size: 1_005 });
    // A revoked key answers 401 from then on.
    expect((await svc.admin("DELETE", `/api/v1/data-import-keys/${listed.body.keys[0].id}`)).status).toBe(204);
    await err(change([{ user_ids: ["u9"] }]), 401, /client_secret/);
    expect((await svc.admin("DELETE", `/api/v1/data-import-keys/${listed.body.keys[0].id}`)).status).toBe(404);
  });

  it("checks partner_api_key when one is configured, and takes a preset data import key", async () => {
    const svc = await start({ partnerApiKey: "heap-partner-key", dataImportKey: "cur_import_preset_0123456789" });
    const body = { client_secret: "cur_import_preset_0123456789", cohort_id: 7, name: "Seven", created_at: "2026-11-01T10:00:00.000+01:00" };
    expect((await post(svc, "/partners/heap/cohorts", body)).status).toBe(401);
    expect((await post(svc, "/partners/heap/cohorts", { ...body, partner_api_key: "wrong" })).status).toBe(401);
    expect((await post(svc, "/partners/heap/cohorts", { ...body, partner_api_key: "heap-partner-key" })).status).toBe(201);
    // Another partner's cohort of the same id is another cohort, its partner recorded.
    expect((await post(svc, "/partners/amplitude/cohorts", { ...body, partner_api_key: "heap-partner-key" })).status).toBe(201);
    const all = (await svc.admin("GET", "/api/v1/cohorts")).body.cohorts as Array<{ partner: string; cohortId: string }>;
    expect(all.map((c) => `${c.partner}:${c.cohortId}`).sort()).toEqual(["amplitude:7", "heap:7"]);
  });

  it("concurrent changes to one cohort: each request is applied (serialised) or refused with 423 and Retry-After, never lost", async () => {
    const svc = await start();
    const key = await importKey(svc);
    expect((await post(svc, "/partners/heap/cohorts", { client_secret: key, cohort_id: "c", name: "C", created_at: "2026-11-01T00:00:00Z" })).status).toBe(201);
    let locked = 0;
    // 20 requests at once, each adding 50 ids of its own; a 423 is retried as Heap would.
    await Promise.all(Array.from({ length: 20 }, async (_, r) => {
      for (;;) {
        const res = await post(svc, "/partners/heap/cohorts/users", { client_secret: key, cohort_id: "c", cohort_changes: [{ user_ids: Array.from({ length: 50 }, (_, i) => `r${r}-${i}`) }] });
        if (res.status === 201) return;
        expect(res.status).toBe(423);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        locked++;
        await new Promise((ok) => setTimeout(ok, 5));
      }
    }));
    const c = (await svc.admin("GET", "/api/v1/cohorts")).body.cohorts[0];
    expect(c.size).toBe(1_000);
    const one = await svc.admin("GET", `/api/v1/cohorts/${c.id}`);
    expect(one.body.history.filter((h: { joined: number }) => h.joined > 0)).toHaveLength(20);
    // How many collided (423, then retried) depends on timing; none was lost (the size above).
    console.log(`concurrent cohort changes: ${locked} answered 423 and were retried`);
  });

  it("cohort changes reach a custom HTTP Current as users.cohorts.Enter / Exit events", async () => {
    const svc = await start();
    const receiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const key = await importKey(svc);
    await launchCurrent(svc, receiver.url, ["users.cohorts.Enter", "users.cohorts.Exit"], { partner: "custom_http", settings: { endpoint: receiver.url } });
    expect((await post(svc, "/partners/heap/cohorts", { client_secret: key, cohort_id: "vip", name: "VIP", created_at: "2026-11-01T00:00:00Z" })).status).toBe(201);
    const change = (cohort_changes: unknown[]) => post(svc, "/partners/heap/cohorts/users", { client_secret: key, cohort_id: "vip", cohort_changes });
    expect((await change([{ user_ids: ["u1", "u2"], device_ids: ["d9"] }])).status).toBe(201);
    expect((await change([{ user_ids: ["u1", "u2"] }])).status).toBe(201); // no change, no event
    expect((await change([{ user_ids: ["u2"], should_remove: true }])).status).toBe(201);
    await waitFor(() => receiver.acceptedEvents(() => true).length >= 4, 15_000, "4 cohort events");
    const got = receiver.acceptedEvents(() => true).map((e) => [e.event_type ?? e.type, (e.user as Record<string, unknown>).external_user_id ?? (e.user as Record<string, unknown>).device_id, (e.properties as Record<string, unknown>).cohort_name, (e.properties as Record<string, unknown>).partner]);
    expect(got).toEqual([
      ["users.cohorts.Enter", "u1", "VIP", "heap"], ["users.cohorts.Enter", "u2", "VIP", "heap"], ["users.cohorts.Enter", "d9", "VIP", "heap"],
      ["users.cohorts.Exit", "u2", "VIP", "heap"],
    ]);
    // The catalog lists them in an extension group, marked as such.
    const groups = (await svc.admin("GET", "/api/v1/event-types")).body.groups as Array<{ id: string; extension: boolean; eventTypes: Array<{ type: string }> }>;
    expect(groups.find((g) => g.extension)).toMatchObject({ id: "currents_extension", eventTypes: [{ type: "users.cohorts.Enter" }, { type: "users.cohorts.Exit" }] });
  });

  it("a simulated Heap sync (names, then members, then deltas) builds the cohorts the API shows, member for member; the CLI plays it too", async () => {
    const svc = await start();
    const key = await importKey(svc);
    const r = await simulateHeapCohortSync({ url: svc.url, key, cohorts: 2, usersPerCohort: 2_500, rounds: 2, seed: 7 });
    const cohorts = (await svc.admin("GET", "/api/v1/cohorts")).body.cohorts as Array<{ id: string; cohortId: string; size: number; name: string }>;
    expect(cohorts.map((c) => c.cohortId).sort()).toEqual(["heap-1", "heap-2"]);
    for (const c of cohorts) {
      const want = r.expected.get(c.cohortId) as Set<string>;
      expect(c.size).toBe(want.size);
      const got: string[] = [];
      for (let cursor: string | null = null; ;) {
        const page = await svc.admin("GET", `/api/v1/cohorts/${c.id}/members?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
        got.push(...(page.body.members as Array<{ id: string }>).map((m) => m.id));
        cursor = page.body.next as string | null;
        if (!cursor) break;
      }
      expect(got.sort()).toEqual([...want].sort());
      const history = (await svc.admin("GET", `/api/v1/cohorts/${c.id}`)).body.history as Array<{ left: number }>;
      expect(history.some((h) => h.left > 0)).toBe(true);
    }
    // Not spawnSync: the service answering the CLI runs in this process.
    const cli = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [fileURLToPath(new URL("../../bin/currents.js", import.meta.url)), "cohort-sync", "--url", svc.url, "--key", key, "--cohorts", "1", "--users", "1500", "--rounds", "1", "--partner", "heapcli"]);
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      p.on("close", (status) => resolve({ status, stdout, stderr }));
    });
    expect(cli.status, cli.stderr).toBe(0);
    const printed = Number(/heap-1: (\d+) members/.exec(cli.stdout)?.[1]);
    const made = ((await svc.admin("GET", "/api/v1/cohorts")).body.cohorts as Array<{ partner: string; size: number }>).find((c) => c.partner === "heapcli");
    expect(made?.size).toBe(printed);
    expect(cli.stderr).toMatch(/cohort sync \[#+/);
  });

  it("a cohort of 1,000,000 members built in requests of 1,000 and read back page by page", async () => {
    const svc = await start();
    const key = await importKey(svc);
    expect((await post(svc, "/partners/heap/cohorts", { client_secret: key, cohort_id: "big", name: "Everyone", created_at: "2026-11-01T00:00:00Z" })).status).toBe(201);
    const N = 1_000_000;
    const pad = (i: number) => `user-${String(i).padStart(7, "0")}`;
    for (let r = 0; r < N / 1_000; r++) {
      const res = await post(svc, "/partners/heap/cohorts/users", { client_secret: key, cohort_id: "big", cohort_changes: [{ user_ids: Array.from({ length: 1_000 }, (_, i) => pad(r * 1_000 + i)) }] });
      if (res.status !== 201) throw new Error(`request ${r}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const c = (await svc.admin("GET", "/api/v1/cohorts?search=everyone")).body.cohorts[0];
    expect(c.size).toBe(N);
    let cursor: string | null = null;
    let seen = 0;
    let previous = "";
    do {
      const page: { status: number; body: { members: Array<{ id: string }>; next: string | null } } = await svc.admin("GET", `/api/v1/cohorts/${c.id}/members?limit=10000${cursor ? `&cursor=${cursor}` : ""}`) as never;
      expect(page.status).toBe(200);
      for (const m of page.body.members) {
        expect(m.id > previous).toBe(true);
        previous = m.id;
      }
      seen += page.body.members.length;
      cursor = page.body.next;
    } while (cursor);
    expect(seen).toBe(N);
    expect((await svc.admin("GET", `/api/v1/users/${pad(777_777)}/cohorts`)).body.cohorts).toHaveLength(1);
  }, 600_000);
});
