import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { ADMIN, type Service, launchCurrent, startService, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";
import { ARTIFACTS, browserAvailable, launchBrowser } from "./browser.js";

const run = browserAvailable();
let browser: Browser;
let cleanup: Array<() => Promise<void> | void> = [];
beforeAll(async () => { if (run) browser = await launchBrowser(); }, 60_000);
afterAll(async () => { await browser?.close(); });
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function open(svc: Service): Promise<{ page: Page; consoleErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  cleanup.push(() => context.close());
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  await page.goto(svc.url);
  await page.getByLabel("Admin token").fill(ADMIN);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Data Export" }).waitFor();
  return { page, consoleErrors };
}

async function setup(respond?: Parameters<typeof startReceiver>[0]) {
  const receiver: Receiver = await startReceiver(respond);
  const svc = await startService({ app: { seriesFlushMs: 200 } });
  cleanup.push(() => receiver.close(), () => svc.close());
  return { receiver, svc };
}

describe.runIf(run)("dashboard in Chromium", () => {
  it("walks the whole flow: log in, create a Heap Export with a token, pick events in two groups, launch, see deliveries", async () => {
    const { receiver, svc } = await setup();
    const { page, consoleErrors } = await open(svc);
    await page.screenshot({ path: `${ARTIFACTS}data-export-empty.png` });
    await page.getByRole("link", { name: "Create New Current" }).click();
    await page.getByLabel("Heap Export").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByText("Give the export a name.").waitFor();
    await page.getByLabel("Export name").fill("Heap production");
    await page.getByLabel("Contact email (for error notices)").fill("data@example.com");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Endpoint URL").fill(receiver.url);
    await page.getByLabel("Bearer token (optional)").fill("heap-token-5678");
    await page.getByRole("button", { name: "Check connection" }).click();
    await page.getByText(/Connected: HTTP 200/).waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Search event types").fill("email.Send");
    await page.getByLabel("users.messages.email.Send", { exact: true }).check();
    await page.getByLabel("Search event types").fill("CustomEvent");
    await page.getByLabel("users.behaviors.CustomEvent", { exact: true }).check();
    await page.getByLabel("Search event types").fill("");
    await page.getByText("2 selected").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}wizard-events.png`, fullPage: true });
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Transformation for email_address").selectOption("hash");
    await page.getByRole("button", { name: "Next" }).click();
    await page.screenshot({ path: `${ARTIFACTS}wizard-review.png` });
    await page.getByText("****5678").waitFor({ timeout: 5000 });
    await page.getByRole("button", { name: "Launch Current" }).click();
    await page.getByRole("heading", { name: "Heap production" }).waitFor();
    await expect(page.getByTestId("status").textContent()).resolves.toBe("active");

    const events = [
      ...Array.from({ length: 5 }, (_, n) => sampleEvent("users.messages.email.Send", { n })),
      ...Array.from({ length: 3 }, (_, n) => sampleEvent("users.behaviors.CustomEvent", { n })),
      sampleEvent("users.messages.sms.Send"),
    ];
    expect((await svc.ingest(events)).body.accepted).toBe(9);
    await page.getByTestId("delivered").getByText("8").waitFor({ timeout: 15_000 });
    expect(receiver.events().length).toBe(8);
    for (const r of receiver.requests.filter((q) => q.events.length > 0)) expect(r.headers.authorization).toBe("Bearer heap-token-5678");
    const email = receiver.events().find((e) => e.event_type === "users.messages.email.Send");
    expect((email?.properties as Record<string, string>).email_address).toMatch(/^[0-9a-f]{64}$/);
    await page.getByLabel("Events delivered per minute").waitFor({ timeout: 15_000 });
    await page.getByLabel("Batch latency (ms)").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}current-page.png`, fullPage: true });
    await page.getByRole("link", { name: "Data Export" }).first().click();
    await page.getByRole("cell", { name: "Heap production" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}data-export.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}current-page-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it("edits and updates a Current, and pauses and resumes it", async () => {
    const { receiver, svc } = await setup();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    const { page } = await open(svc);
    await page.goto(`${svc.url}/#/currents/${id}`);
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Export name").fill("Renamed export");
    await page.getByRole("button", { name: "Update Current" }).click();
    await page.getByRole("heading", { name: "Renamed export" }).waitFor();
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByTestId("status").getByText("paused").waitFor();
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.events().length).toBe(0);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByTestId("status").getByText("active").waitFor();
    await waitFor(() => receiver.events().length === 1);
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.settings.bearerToken).toBe("****abcd"); // the masked token was kept
  });

  it("shows a failing Current's banner", async () => {
    const { receiver, svc } = await setup(() => ({ status: 401 }));
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    const { page } = await open(svc);
    await page.goto(`${svc.url}/#/currents/${id}`);
    await page.getByRole("alert").getByText(/This Current is failing: HTTP 401/).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${ARTIFACTS}failing-banner.png` });
  });

  it("renders the browsable API docs", async () => {
    const { svc } = await setup();
    const context = await browser.newContext();
    cleanup.push(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // A Content-Security-Policy violation (e.g. an inline style refused) is a console error.
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`${svc.url}/api/docs/`);
    await page.getByText("/api/v1/currents/{id}/replay").first().waitFor({ timeout: 15_000 });
    await page.getByText("/api/v1/currents/{id}/replay").first().click(); // an operation opened: its schemas render too
    await page.getByText("Re-send the retained events accepted in a time range").first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}api-docs.png` });
    expect(errors).toEqual([]);
  });

  it("redrives dead letters", async () => {
    let accept = false;
    const delivered = new Set<unknown>();
    const { receiver, svc } = await setup((r) => {
      if (!accept && r.events.some((e) => e.id === "poison")) return { status: 400, body: "bad event" };
      for (const e of r.events) delivered.add(e.id);
      return { status: 200 };
    });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.ingest([sampleEvent("users.messages.email.Send", { id: "poison" }), sampleEvent("users.messages.email.Send")]);
    const { page } = await open(svc);
    await page.goto(`${svc.url}/#/currents/${id}`);
    await page.getByRole("heading", { name: "Dead letters (1)" }).waitFor({ timeout: 10_000 });
    accept = true;
    await page.getByRole("button", { name: "Redrive all" }).click();
    await page.getByRole("heading", { name: "Dead letters (0)" }).waitFor({ timeout: 10_000 });
    await waitFor(() => delivered.has("poison"));
    expect(receiver.requests.length).toBeGreaterThan(2);
  });
});
