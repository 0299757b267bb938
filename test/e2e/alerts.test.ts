import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";

const use = closedAfterEach();
const TYPE = "users.messages.email.Send";
const MIN = 60_000;

describe("alerts", () => {
  it("one notice when a threshold is crossed and one when it recovers, for oldest pending, error rate and dead letters; shown with the Current", async () => {
    let offset = 0;
    let holdAccepts = false;
    let flakyAccepts = false;
    const hold = await use.receiver(() => (holdAccepts ? { status: 200 } : { status: 503, headers: { "retry-after": "3600" } }));
    const flaky = await use.receiver(() => (flakyAccepts ? { status: 200 } : { status: 500, body: "boom" }));
    const refuse = await use.receiver(() => ({ status: 400, body: "no" }));
    const hook = await use.receiver();
    const svc = await use.service({
      config: { notifyWebhookUrl: hook.url },
      app: { now: () => Date.now() + offset, alertCheckMs: 3_600_000, retryPolicy: { baseDelayMs: 20, maxDelayMs: 40, multiplier: 2, jitterRatio: 0, maxRetryAfterMs: 3_600_000 } },
    });
    const custom = (name: string, url: string) => ({ name, partner: "custom_http", settings: { endpoint: url } });
    const slow = await launchCurrent(svc, hold.url, [TYPE], custom("Slow", hold.url));
    const errors = await launchCurrent(svc, flaky.url, [TYPE], custom("Errors", flaky.url));
    const dead = await launchCurrent(svc, refuse.url, [TYPE], custom("Dead", refuse.url));
    const check = async () => {
      await svc.app.services.engine.flush();
      await svc.app.services.alerts.check(await svc.app.services.store.config.listCurrents());
    };
    // The notices of alerts (the hourly dead-letter notice goes to the same webhook); they are sent in the background.
    const notices = () => hook.requests.map((r) => JSON.parse(r.raw) as { kind: string; message: string; current: { name: string } }).filter((n) => n.kind.startsWith("alert"));
    const settled = async (n: number) => {
      await waitFor(() => notices().length >= n, 10_000, `${n} alert notices`);
      await svc.app.notifier.settle();
      expect(notices()).toHaveLength(n);
    };
    const alertsOf = async (id: string) => (await svc.admin("GET", `/api/v1/currents/${id}/alerts`)).body;

    expect(await alertsOf(slow)).toMatchObject({ custom: false, rules: { oldestPendingMinutes: 15, errorRatePercent: 25, deadLetters: 100 } });
    const bad = await svc.admin("PUT", `/api/v1/currents/${slow}/alerts`, { oldestPendingMinutes: 0, errorRatePercent: null, deadLetters: null });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/oldestPendingMinutes/);
    for (const [id, rules] of [[slow, { oldestPendingMinutes: 10, errorRatePercent: null, deadLetters: null }], [errors, { oldestPendingMinutes: null, errorRatePercent: 50, deadLetters: null }], [dead, { oldestPendingMinutes: null, errorRatePercent: null, deadLetters: 2 }]] as const) {
      expect((await svc.admin("PUT", `/api/v1/currents/${id}/alerts`, rules)).body).toMatchObject({ custom: true, rules });
    }

    await svc.ingest([sampleEvent(TYPE, { id: "a1" }), sampleEvent(TYPE, { id: "a2" })]);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${dead}`)).body.stats.deadLettered === 2, 15_000, "two dead letters");
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${errors}/attempts?outcome=failed&limit=20`)).body.attempts.length >= 12, 15_000, "a dozen failed attempts");
    await check();
    await settled(2);
    const firstRound = notices().map((n) => `${n.kind} ${n.current.name}`).sort();
    expect(firstRound).toEqual(["alert Dead", "alert Errors"]);
    expect(notices().find((n) => n.current.name === "Errors")?.message).toMatch(/100 % of its attempts of the last 15 minutes did not deliver \(alert at 50 %\)/);
    expect((await alertsOf(errors)).alerts.find((a: { kind: string }) => a.kind === "error_rate")).toMatchObject({ firing: true, threshold: 50, value: 100 });

    // Ten minutes later the held events of "Slow" cross its threshold; the others notice nothing new (one notice per crossing).
    offset += 11 * MIN;
    await check();
    await check();
    await settled(3);
    expect(notices().map((n) => `${n.kind} ${n.current.name}`).slice(2)).toEqual(["alert Slow"]);
    expect(notices()[2]?.message).toMatch(/oldest pending event has waited 11 min \(alert at 10 min\)/);
    const slowAlerts = (await alertsOf(slow)).alerts;
    expect(slowAlerts.find((a: { kind: string }) => a.kind === "oldest_pending")).toMatchObject({ firing: true, value: 11 });
    expect(Date.parse(slowAlerts[0].since)).toBeGreaterThan(Date.now());

    // Recoveries: the slow partner takes its events, the flaky one works again (its failures age out of the 15 minutes), the dead letters are discarded.
    holdAccepts = true;
    flakyAccepts = true;
    await svc.admin("POST", `/api/v1/currents/${slow}/retry-now`);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${slow}`)).body.stats.pending === 0, 15_000, "slow delivered");
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${errors}`)).body.stats.pending === 0, 15_000, "errors delivered");
    const letters = (await svc.admin("GET", `/api/v1/currents/${dead}/dead-letters`)).body.deadLetters as Array<{ id: number }>;
    expect((await svc.admin("POST", `/api/v1/currents/${dead}/dead-letters/discard`, { ids: letters.map((l) => l.id) })).status).toBe(200);
    offset += 16 * MIN;
    await check();
    await check();
    await settled(6);
    expect(notices().map((n) => `${n.kind} ${n.current.name}`).slice(3).sort()).toEqual(["alert_recovered Dead", "alert_recovered Errors", "alert_recovered Slow"]);
    // Each notice is in the Current's history too.
    const history = (await svc.admin("GET", `/api/v1/currents/${slow}/history`)).body.history as Array<{ status: string }>;
    expect(history.filter((h) => h.status === "alert" || h.status === "alert_recovered")).toHaveLength(2);
    // Back to the defaults.
    expect((await svc.admin("DELETE", `/api/v1/currents/${slow}/alerts`)).body).toMatchObject({ custom: false, rules: { oldestPendingMinutes: 15 } });
  }, 60_000);
});
