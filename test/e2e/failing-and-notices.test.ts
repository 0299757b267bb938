import { createServer } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { type Service, launchCurrent, startService, waitFor } from "../support/harness.js";
import { startReceiver } from "../support/receiver.js";

const TYPE = "users.messages.email.Click";
const MIN = 60_000;
const DAY = 86_400_000;
const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => sampleEvent(TYPE, { id: `${prefix}-${i}` }));

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A service whose clock can jump forward, a partner that refuses until told, a notice webhook and an SMTP server. */
async function setup() {
  let offset = 0;
  let partnerAccepts = false;
  const partner = await startReceiver((r) => (partnerAccepts ? { status: 200 } : r.events.length === 0 ? { status: 403 } : { status: 401 }));
  const hook = await startReceiver();
  const mails: Array<{ to: string; data: string }> = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      let data = "";
      stream.on("data", (c: Buffer) => (data += c.toString()));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), data });
        callback();
      });
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((r) => smtp.listen(smtpPort, "127.0.0.1", r));
  const svc: Service = await startService({
    app: { now: () => Date.now() + offset, failingCheckMs: 3_600_000 },
    config: { notifyWebhookUrl: hook.url, smtpUrl: `smtp://127.0.0.1:${smtpPort}`, smtpFrom: "currents@example.com" },
  });
  cleanup.push(() => partner.close(), () => hook.close(), () => new Promise<void>((r) => smtp.close(() => r())), () => svc.close());
  const id = await launchCurrent(svc, partner.url, [TYPE], { contactEmail: "owner@example.com", batching: { lingerMs: 10 } });
  return {
    svc, partner, hook, mails, id,
    advance: (ms: number) => { offset += ms; },
    accept: () => { partnerAccepts = true; },
    tick: () => svc.app.failingMonitor.tick(),
    current: async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body,
  };
}

describe("failing Currents", () => {
  it("probes every 2-5 minutes with the connection check and resumes by itself when a probe succeeds", async () => {
    const t = await setup();
    await t.svc.ingest(events(30, "a"));
    await waitFor(async () => (await t.current()).status === "failing");
    expect((await t.current()).statusReason).toMatch(/HTTP 401/);
    await t.tick(); // schedules the first probe
    const before = t.partner.requests.length;
    t.advance(1 * MIN);
    await t.tick();
    expect(t.partner.requests.length).toBe(before); // not due before 2 minutes
    t.advance(5 * MIN);
    await t.tick();
    expect(t.partner.requests.length).toBe(before + 1);
    const probe = t.partner.requests[before];
    expect(probe?.raw).toBe('{"events":[]}');
    expect(probe?.headers.authorization).toBe("Bearer partner-token-abcd");
    expect((await t.current()).status).toBe("failing");

    t.accept();
    t.advance(5 * MIN);
    await t.tick();
    expect((await t.current()).status).toBe("active");
    await waitFor(async () => (await t.current()).stats.delivered === 30);
    await t.svc.app.notifier.settle();
    const kinds = t.hook.requests.map((r) => JSON.parse(r.raw).kind);
    expect(kinds).toEqual(["failing", "recovered"]);
    const history = (await t.svc.admin("GET", `/api/v1/currents/${t.id}/history`)).body.history;
    expect(history.map((h: { kind: string; status: string }) => `${h.kind}:${h.status}`)).toEqual(
      expect.arrayContaining(["status:failing", "notice:failing", "status:active", "notice:recovered"]),
    );
    expect(t.mails.map((m) => m.to)).toEqual(["owner@example.com", "owner@example.com"]);
    // Subjects are MIME-encoded (Q-encoding): "Currents: \"Test export\" is failing" and "... has recovered".
    const subjects = t.mails.map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1] ?? "").sort();
    expect(subjects[0]).toMatch(/Test.export.*has.recove/);
    expect(subjects[1]).toMatch(/Test.export.*is.failing/);
  });

  it("becomes disabled after 5 days of failing, keeps its events, and delivers the backlog when re-enabled", async () => {
    const t = await setup();
    await t.svc.ingest(events(25, "d"));
    await waitFor(async () => (await t.current()).status === "failing");
    for (let day = 0; day < 4; day++) {
      t.advance(DAY);
      await t.tick();
      expect((await t.current()).status).toBe("failing");
    }
    t.advance(DAY);
    await t.tick();
    const disabled = await t.current();
    expect(disabled.status).toBe("disabled");
    expect(disabled.stats.pending).toBe(25);
    await t.svc.app.notifier.settle();
    expect(t.hook.requests.map((r) => JSON.parse(r.raw).kind)).toEqual(["failing", "disabled"]);
    t.accept();
    expect((await t.svc.admin("POST", `/api/v1/currents/${t.id}/resume`)).body.status).toBe("active");
    await waitFor(async () => (await t.current()).stats.delivered === 25);
  });
});
