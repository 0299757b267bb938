import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { ADMIN, INGEST, type Service, launchCurrent, tempDir, startService, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";
import { ARTIFACTS, browserAvailable, launchBrowser } from "./browser.js";
import { FakeHeap } from "../../src/receiver/fake-heap.js";
import { exited } from "../support/child-service.js";
import { simulateHeapCohortSync } from "../../src/simulator/heap-cohort-sync.js";

const BIN = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));

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
    // Friendly name, the type beneath, the description inline; groups with no match hidden while searching.
    await page.getByText("Email Send", { exact: true }).waitFor();
    await expect(page.getByText("User events").count()).resolves.toBe(0);
    await page.getByLabel("Search event types").fill("CustomEvent");
    await page.getByLabel("users.behaviors.CustomEvent", { exact: true }).check();
    await expect(page.getByTestId("group-count-message_engagement").count()).resolves.toBe(0);
    await page.getByLabel("Search event types").fill("");
    await page.getByText("2 selected").waitFor();
    // Counts are of the whole group, whatever the search shows.
    await expect(page.getByTestId("group-count-message_engagement").textContent()).resolves.toMatch(/^\(1\/\d+\)$/);
    await expect(page.getByTestId("group-count-customer_behavior").textContent()).resolves.toMatch(/^\(1\/\d+\)$/);
    await expect(page.getByTestId("group-count-user").textContent()).resolves.toMatch(/^\(0\/\d+\)$/);
    // Channels fold: the wizard's page is no longer a 3,600 px column.
    expect(await page.evaluate("document.body.scrollHeight")).toBeLessThan(2_200);
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
    // Charts draw finished minutes only: right after launch they say what will appear.
    await page.getByLabel("Events delivered per minute").or(page.getByTestId("charts-empty")).waitFor({ timeout: 15_000 });
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
    // Cancel leaves everything as it was.
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByLabel("Export name").fill("Not kept");
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("form", { name: "Edit Current" }).count()).resolves.toBe(0);
    await page.getByRole("heading", { name: "Test export" }).waitFor();
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const form = page.getByRole("form", { name: "Edit Current" });
    // In place, in view, with every setting: the check uses the stored (masked) token.
    await expect(form.isVisible()).resolves.toBe(true);
    const checksBefore = receiver.requests.length;
    await form.getByRole("button", { name: "Check connection" }).click();
    await form.getByText(/Connected: HTTP 200/).waitFor();
    expect(receiver.requests[checksBefore]?.headers.authorization).toBe("Bearer partner-token-abcd");
    await form.getByLabel("Export name").fill("Renamed export");
    await form.getByLabel("Events per batch at most").fill("0");
    await form.getByRole("button", { name: "Update Current" }).click();
    const batchError = form.getByText("A whole number from 1 to 10000, or empty for the default.");
    await batchError.waitFor();
    // The error sits beside its field, not at the end of the form.
    const fieldBox = await form.getByLabel("Events per batch at most").boundingBox();
    const errorBox = await batchError.boundingBox();
    expect(Math.abs((errorBox?.y ?? 0) - (fieldBox?.y ?? 0))).toBeLessThan(80);
    await form.screenshot({ path: `${ARTIFACTS}edit-error.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await form.getByLabel("Events per batch at most").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${ARTIFACTS}edit-error-phone.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
    await form.getByLabel("Events per batch at most").fill("25");
    await form.getByLabel("Transformation for email_address").selectOption("hash");
    await form.getByRole("button", { name: "Update Current" }).click();
    await page.getByRole("heading", { name: "Renamed export" }).waitFor();
    const saved = (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
    expect(saved.batching.maxBatchEvents).toBe(25);
    expect(saved.transformations).toEqual([{ field: "email_address", action: "hash" }]);
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

  it("creates a Heap (server-side API) Current with only an App ID; a simulated workload reaches the fake Heap, every event accounted for", async () => {
    const heap = new FakeHeap({ appIds: ["1234567890"] });
    const heapUrl = await heap.start();
    const svc = await startService({ app: { seriesFlushMs: 200 } });
    cleanup.push(() => heap.close(), () => svc.close());
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Create New Current" }).click();
    await page.getByLabel("Heap (server-side API)").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Export name").fill("Heap by App ID");
    await page.getByRole("button", { name: "Next" }).click();
    // A wrong App ID is named before anything is sent.
    await page.getByLabel("App ID").fill("my-app");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByText(/App ID must be the digits/).waitFor();
    await page.getByLabel("App ID").fill("1234567890");
    await page.getByLabel("Base URL (optional)").fill(heapUrl); // the fake Heap stands in for the region's URL
    await page.screenshot({ path: `${ARTIFACTS}heap-api-details.png`, fullPage: true });
    await page.getByRole("button", { name: "Check connection" }).click();
    await page.getByText(/Connected: HTTP 200/).waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    for (const box of await page.getByRole("checkbox", { name: /^Select all/ }).all()) await box.check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByText("external_user_id (default)").waitFor();
    await page.getByRole("button", { name: "Launch Current" }).click();
    await page.getByRole("heading", { name: "Heap by App ID" }).waitFor();
    await page.getByText("Held by rate limit (now)").waitFor();
    await page.getByText(/Test events go to the Heap user "currents-test"/).waitFor();

    const proc = spawn(process.execPath, [BIN, "simulate", "--url", svc.url, "--key", INGEST, "--rate", "150", "--duration", "2", "--seed", "7"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    expect(await exited(proc)).toBe(0);
    const accepted = Number(/(\d+) accepted/.exec(out)?.[1]);
    expect(accepted).toBeGreaterThan(100);
    const id = page.url().split("/").pop() as string;
    const stats = async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
    await waitFor(async () => { const s = await stats(); return s.pending === 0 && s.delivered + s.deadLettered === accepted; }, 20_000, "every simulated event delivered or dead-lettered");
    const s = await stats();
    expect(heap.events.size - heap.eventsOf("currents-test").length).toBe(s.delivered); // the connection check went to the test identity
    expect(heap.answers.get(400) ?? 0).toBe(0);
    for (const r of s.deadLettersByReason) expect(r.reason).toBe("no identity (external_user_id)");
    await page.getByTestId("delivered").getByText(String(s.delivered)).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: `${ARTIFACTS}heap-api-current.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}heap-api-current-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("creates a Mailgun source, shows its webhook URL and setup, then the events and the unmapped ones it received", async () => {
    const svc = await startService();
    cleanup.push(() => svc.close());
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Sources" }).click();
    await page.getByRole("heading", { name: "Sources" }).waitFor();
    await page.getByLabel("Provider").selectOption("mailgun");
    await page.getByLabel("Name").fill("Mailgun production");
    await page.getByRole("button", { name: "Create source" }).click();
    await page.getByText("HTTP webhook signing key is required.").waitFor();
    const signingKey = "key-0123456789abcdef0123456789";
    await page.getByLabel("HTTP webhook signing key").fill(signingKey);
    await page.getByRole("button", { name: "Create source" }).click();
    await page.getByRole("heading", { name: "Mailgun production" }).waitFor();
    const url = await page.getByLabel("Webhook URL").inputValue();
    expect(url).toMatch(/\/v1\/sources\/[\w-]+$/);
    await page.getByText("In Mailgun: Sending > Webhooks, pick the domain.").waitFor();
    const post = (eventData: Record<string, unknown>) => {
      const token = `t${Math.random()}`;
      const ts = String(Math.floor(Date.now() / 1000));
      return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({
        signature: { token, timestamp: ts, signature: createHmac("sha256", signingKey).update(ts + token).digest("hex") }, "event-data": eventData }) });
    };
    expect((await post({ id: "e1", event: "delivered", timestamp: Date.now() / 1000, recipient: "ann@example.com", "user-variables": { external_user_id: "u1" } })).status).toBe(200);
    expect((await post({ id: "e2", event: "list_member_uploaded", timestamp: Date.now() / 1000, recipient: "bob@example.com" })).status).toBe(200);
    await page.getByRole("cell", { name: "users.messages.email.Delivery" }).waitFor({ timeout: 10_000 });
    await page.getByLabel("Unmapped provider events").getByText(/list_member_uploaded/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}sources.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}sources-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("a Current its partner keeps refusing shows 'retrying' with the error, when it happened and the next attempt; Retry now delivers; the error then clears", async () => {
    let refuse = true;
    const { receiver, svc } = await setup(() => (refuse ? { status: 503, body: JSON.stringify({ error: { code: "overloaded", detail: "try later" } }), headers: { "retry-after": "3600" } } : { status: 200 }));
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"], { name: "Flaky endpoint", partner: "custom_http", settings: { endpoint: receiver.url } });
    const events = Array.from({ length: 1_234 }, (_, i) => sampleEvent("users.messages.email.Send", { id: `f${i}` }));
    expect((await svc.ingest(events.slice(0, 1_000))).status).toBe(200);
    expect((await svc.ingest(events.slice(1_000))).status).toBe(200);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.retryingUntil !== null, 10_000, "retrying");
    const { page, consoleErrors } = await open(svc);
    const row = page.getByRole("row", { name: /Flaky endpoint/ });
    await row.getByText("retrying", { exact: true }).waitFor({ timeout: 10_000 });
    expect(await row.textContent()).not.toContain("{");
    await page.screenshot({ path: `${ARTIFACTS}list-retrying.png` });
    await page.goto(`${svc.url}/#/currents/${id}`);
    await page.getByRole("status").filter({ hasText: "Retrying" }).getByText(/in (59|60) min/).waitFor();
    await page.getByTestId("last-error").getByText(/ago/).waitFor();
    await page.getByText("1,234").first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}current-retrying.png`, fullPage: true });
    refuse = false;
    await page.getByRole("button", { name: "Retry now" }).click();
    await waitFor(async () => (await page.getByTestId("status").textContent()) === "active", 10_000, "active again");
    await page.getByTestId("delivered").getByText("1,234").waitFor({ timeout: 10_000 });
    // The volume by event type (the series is written every 200 ms here).
    await page.getByRole("region", { name: "Volume by event type" }).getByRole("row", { name: /users\.messages\.email\.Send\s*1,234/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId("last-error").waitFor({ state: "detached" });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}current-recovered-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("the audit page lists who changed what, and the event dictionary (linked from the event picker) shows a type's fields and example", async () => {
    const { receiver, svc } = await setup();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"], { name: "Audited" });
    expect((await svc.admin("POST", `/api/v1/currents/${id}/pause`)).status).toBe(200);
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Audit log" }).click();
    const log = page.getByRole("table", { name: "Audit log" });
    await log.getByText("POST /api/v1/currents/:id/pause").waitFor();
    await log.getByText("POST /api/v1/currents/:id/launch").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}audit.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}audit-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    // From the event picker, a type's entry.
    await page.goto(`${svc.url}/#/new`);
    await page.getByLabel("Heap Export").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Export name").fill("Dictionary");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Endpoint URL").fill(receiver.url);
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Search event types").fill("email.Open");
    const [entry] = await Promise.all([page.context().waitForEvent("page"), page.getByRole("link", { name: "users.messages.email.Open in the event dictionary" }).click()]);
    await entry.getByRole("heading", { name: "Event dictionary" }).waitFor();
    await entry.getByRole("table", { name: "Fields of users.messages.email.Open" }).getByText("dispatch_id").waitFor();
    expect(await entry.getByLabel("Example users.messages.email.Open").textContent()).toContain('"users.messages.email.Open"');
    await entry.screenshot({ path: `${ARTIFACTS}event-dictionary.png` });
    await entry.getByLabel("Search event types").fill("cohorts");
    await entry.getByText("Currents' own types, not the original's").waitFor();
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("in Spanish, from the browser's language: Integraciones de socios > Exportación de datos > Crear nuevo Current > Exportación de Heap > Detalles de Current > three groups > Iniciar Current; numbers and dates localized; the header switches back to English", async () => {
    const { receiver, svc } = await setup();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "es-ES" });
    cleanup.push(() => context.close());
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    await page.goto(svc.url);
    await page.getByLabel("Token de administrador").fill(ADMIN);
    await page.getByRole("button", { name: "Iniciar sesión" }).click();
    await page.getByText("Integraciones de socios").waitFor();
    await page.getByRole("heading", { name: "Exportación de datos" }).waitFor();
    await page.getByRole("link", { name: "Crear nuevo Current" }).click();
    await page.getByRole("heading", { name: "Elegir un socio" }).waitFor();
    // The server's words about its partners, in Spanish too.
    await page.getByText("Envía los eventos a Heap por la URL de webhook que te da tu gestor de cuenta de Heap.").waitFor();
    await page.getByText("Necesita: App ID").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}es-wizard-partners.png`, fullPage: true });
    await page.getByLabel("Exportación de Heap").check();
    await page.getByRole("button", { name: "Siguiente" }).click();
    await page.getByRole("button", { name: "Siguiente" }).click();
    await page.getByText("Ponle un nombre a la exportación.").waitFor();
    await page.getByLabel("Nombre de la exportación").fill("Heap producción");
    await page.getByRole("button", { name: "Siguiente" }).click();
    await page.getByRole("heading", { name: "Detalles de Current" }).waitFor();
    await page.getByRole("button", { name: "Siguiente" }).click();
    await page.getByText("URL del endpoint es obligatorio.").waitFor();
    await page.getByLabel("URL del endpoint").fill(receiver.url);
    await page.getByLabel("Token de portador (opcional)").fill("heap-token-9876");
    await page.getByRole("button", { name: "Comprobar conexión" }).click();
    await page.getByText(/Conectado: HTTP 200/).waitFor();
    await page.getByRole("button", { name: "Siguiente" }).click();
    for (const group of ["eventos de interacción con los mensajes", "eventos de comportamiento del cliente", "eventos de usuario"]) {
      await page.getByLabel(`Seleccionar todos los ${group}`).check();
    }
    await page.getByText(/\d+ seleccionados/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}es-wizard-events.png`, fullPage: true });
    await page.getByRole("button", { name: "Siguiente" }).click();
    await page.getByRole("button", { name: "Siguiente" }).click();
    await page.getByRole("heading", { name: "Revisión" }).waitFor();
    await page.getByText("****9876").waitFor();
    await page.getByRole("button", { name: "Iniciar Current" }).click();
    await page.getByRole("heading", { name: "Heap producción" }).waitFor();
    await expect(page.getByTestId("status").textContent()).resolves.toBe("activo");
    const events = Array.from({ length: 1_200 }, (_, i) => sampleEvent("users.messages.email.Send", { id: `es${i}` }));
    await svc.ingest(events.slice(0, 1_000));
    await svc.ingest(events.slice(1_000));
    await page.getByTestId("delivered").getByText(/^1[.\s\u00a0]?200$/).waitFor({ timeout: 15_000 });
    await page.getByText("Entregados (24 h)").waitFor();
    await page.getByRole("heading", { name: "Gráficos" }).waitFor();
    await page.getByRole("heading", { name: "Volumen por tipo de evento" }).waitFor();
    await page.getByRole("heading", { name: "Mensajes fallidos (0)" }).waitFor();
    await page.getByRole("heading", { name: "Alertas" }).waitFor();
    await page.getByRole("heading", { name: "Intentos recientes" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}es-current.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}es-current-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(receiver.requests.length).toBeGreaterThan(0);
    // Find an event and Cohorts, in Spanish.
    await page.getByRole("link", { name: "Buscar un evento" }).click();
    await page.getByRole("textbox", { name: "Id del evento" }).fill("es7");
    await page.getByRole("button", { name: "Buscar", exact: true }).click();
    await page.getByText("1 evento encontrado.").waitFor();
    await page.locator('[data-testid="trace"][data-state="delivered"] h3').getByText("entregado", { exact: true }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}es-find-event.png`, fullPage: true });
    await page.getByRole("link", { name: "Cohortes" }).click();
    await page.getByRole("heading", { name: "Conectar Heap" }).waitFor();
    await page.getByText("Aún no hay cohortes").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}es-cohorts.png`, fullPage: true });
    // The switch in the header, remembered on reload.
    await page.getByLabel("Idioma").selectOption("en");
    await page.getByRole("navigation").getByRole("link", { name: "Data Export" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Connect Heap" }).waitFor();
    expect(consoleErrors).toEqual([]);
  }, 90_000);

  it("cohorts: creates a data import key, a simulated Heap sync fills the list, a cohort's page draws its size over time, a user is looked up", async () => {
    const svc = await startService();
    cleanup.push(() => svc.close());
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Cohorts" }).click();
    await page.getByRole("heading", { name: "Cohorts", level: 1 }).waitFor();
    await page.getByText("No cohort yet").waitFor();
    expect(await page.getByTestId("cohort-endpoint").textContent()).toBe(svc.url);
    await page.getByRole("button", { name: "Create data import key" }).click();
    const key = (await page.getByTestId("new-import-key").textContent()) as string;
    expect(key).toMatch(/^cur_import/);
    const sync = await simulateHeapCohortSync({ url: svc.url, key, cohorts: 3, usersPerCohort: 1_500, rounds: 2, seed: 3 });
    await page.getByRole("link", { name: "Power users" }).waitFor({ timeout: 10_000 });
    const powerUsers = (sync.expected.get("heap-1") as Set<string>).size;
    await page.getByRole("row", { name: /Power users/ }).getByText(powerUsers.toLocaleString("en-US")).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}cohorts.png`, fullPage: true });
    // A user's cohorts.
    const member = [...(sync.expected.get("heap-2") as Set<string>)][0] as string;
    await page.getByLabel("User", { exact: true }).fill(member);
    await page.getByRole("button", { name: "Look up" }).click();
    await page.getByTestId("user-cohorts").getByRole("link", { name: "At risk of churn" }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}cohorts-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Power users" }).first().click();
    await page.getByRole("heading", { name: "Power users" }).waitFor();
    expect(await page.getByTestId("cohort-size").textContent()).toBe(powerUsers.toLocaleString("en-US"));
    await page.getByRole("figure", { name: "Members over time" }).locator("canvas").waitFor();
    // The axis fits the history (seconds here, a minute at least), not a 10-minute window the changes would sit at the edge of.
    const drawn = page.getByRole("figure", { name: "Members over time" }).locator("[data-x-from]");
    const span = Number(await drawn.getAttribute("data-x-to")) - Number(await drawn.getAttribute("data-x-from"));
    expect(span).toBeGreaterThanOrEqual(59);
    expect(span).toBeLessThan(300);
    await page.getByRole("columnheader", { name: "Members after" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}cohort-page.png`, fullPage: true });
    // As a phone opens it (charts are sized when drawn).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByRole("figure", { name: "Members over time" }).locator("canvas").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}cohort-page-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("creates a storage Current (Avro files) with per-user order in the wizard; its connection check writes and deletes a marker", async () => {
    const dir = tempDir("currents-browser-avro-");
    const svc = await startService({ app: { seriesFlushMs: 200 } });
    cleanup.push(() => svc.close(), () => rmSync(dir, { recursive: true, force: true }));
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Create New Current" }).click();
    await page.getByLabel("Storage (Avro files)").check();
    await page.screenshot({ path: `${ARTIFACTS}wizard-partners.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}wizard-partners-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Export name").fill("Data lake");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Directory (optional)").fill(dir);
    await page.getByLabel("Flush every (s) (optional)").fill("1");
    await page.getByLabel("Keep each user's events in order (per-user order)").check();
    await page.getByRole("button", { name: "Check connection" }).click();
    await page.getByText(/Connected: HTTP 200/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}storage-details.png`, fullPage: true });
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Search event types").fill("email.Send");
    await page.getByLabel("users.messages.email.Send", { exact: true }).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByText("per user", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Launch Current" }).click();
    await page.getByRole("heading", { name: "Data lake" }).waitFor();
    await page.getByText(/per-user order/).waitFor();
    expect((await svc.ingest(Array.from({ length: 7 }, (_, n) => sampleEvent("users.messages.email.Send", { n })))).body.accepted).toBe(7);
    await page.getByTestId("delivered").getByText("7").waitFor({ timeout: 15_000 });
    // Per-user order cuts a batch per lane: here one file per user (7), each written whole.
    expect(readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".avro"))).toHaveLength(7);
    await page.screenshot({ path: `${ARTIFACTS}storage-current.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}storage-current-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);
  it("finds an event by id and a user's events: delivered (in which attempt, the answer), pending, dead letter; a Current's attempts filter and page", async () => {
    let calls = 0;
    const { receiver, svc } = await setup((req) => {
      calls++;
      if (calls === 1) return { status: 503, body: "warming up" };
      return req.raw.includes("bad-1") ? { status: 400, body: "{\"error\":\"no email\"}" } : { status: 200, body: "{\"ok\":true}" };
    });
    const custom = (name: string) => ({ name, partner: "custom_http", settings: { endpoint: receiver.url } });
    const a = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"], custom("Analytics"));
    const b = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"], custom("Warehouse"));
    await svc.admin("POST", `/api/v1/currents/${b}/pause`);
    const user = { external_user_id: "user-42" };
    await svc.ingest([{ ...sampleEvent("users.messages.email.Send", { id: "ok-1" }), user }]);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${a}`)).body.stats.delivered === 1, 20_000, "ok-1 delivered");
    await svc.ingest([{ ...sampleEvent("users.messages.email.Send", { id: "bad-1" }), user }]);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${a}`)).body.stats.deadLettered === 1, 20_000, "bad-1 dead-lettered");
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Find an event" }).click();
    await page.getByRole("textbox", { name: "Event id" }).fill("ok-1");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByTestId("find-summary").getByText("1 event found.").waitFor();
    const delivered = page.locator('[data-testid="trace"][data-state="delivered"]');
    await delivered.getByRole("link", { name: "Analytics" }).waitFor();
    await delivered.getByText(/Delivered .*attempts of its batch: 2/).waitFor();
    const tries = delivered.getByRole("table");
    expect(await tries.locator("tbody tr").count()).toBe(2);
    await tries.getByText("warming up").waitFor();
    await tries.getByText("{\"ok\":true}").waitFor();
    await page.locator('[data-testid="trace"][data-state="pending"]').getByText(/Pending, waiting since/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}find-event.png`, fullPage: true });
    await page.getByRole("radio", { name: /User id/ }).check();
    await page.getByRole("textbox", { name: /User id/ }).fill("user-42");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByTestId("find-summary").getByText("2 events found.").waitFor();
    await page.locator('[data-testid="trace"][data-state="dead_lettered"]').getByText(/Dead letter: refused by the partner \(400\)/).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByRole("textbox", { name: "Event id" }).fill("bad-1");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByTestId("find-summary").getByText("1 event found.").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}find-event-phone.png`, fullPage: true });
    // The Current's attempts: from the attempt log, filtered.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${svc.url}/#/currents/${a}`);
    const log = page.getByRole("region", { name: "Recent attempts" }).or(page.locator(".attempts-section"));
    await log.locator("tbody tr").first().waitFor();
    expect(await log.locator("tbody tr").count()).toBeGreaterThanOrEqual(3);
    await page.getByLabel("Outcome", { exact: true }).selectOption("failed");
    await waitFor(async () => (await log.locator('tbody tr[data-outcome="delivered"]').count()) === 0 && (await log.locator("tbody tr").count()) >= 2, 10_000, "only failed attempts");
    await log.screenshot({ path: `${ARTIFACTS}current-attempts-failed.png` });
    expect(consoleErrors).toEqual([]);
  }, 60_000);
  it("alerts on a Current's page: set in place (a wrong value named beside its field), firing once crossed, back to ok once recovered", async () => {
    let offset = 0;
    let accept = false;
    const receiver = await startReceiver(() => (accept ? { status: 200 } : { status: 503, headers: { "retry-after": "3600" } }));
    const svc = await startService({ app: { seriesFlushMs: 200, now: () => Date.now() + offset, alertCheckMs: 3_600_000 } });
    cleanup.push(() => receiver.close(), () => svc.close());
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"], { name: "Alerted", partner: "custom_http", settings: { endpoint: receiver.url } });
    await svc.ingest([sampleEvent("users.messages.email.Send", { id: "late-1" })]);
    const check = async () => svc.app.services.alerts.check(await svc.app.services.store.config.listCurrents());
    const { page, consoleErrors } = await open(svc);
    await page.goto(`${svc.url}/#/currents/${id}`);
    const panel = page.getByRole("region", { name: "Alerts" });
    await panel.getByTestId("alert-oldest_pending").getByText("alert at 15 min").waitFor();
    await panel.getByRole("button", { name: "Edit alerts" }).click();
    await panel.getByLabel("Oldest pending event waited (minutes)").fill("10");
    await panel.getByLabel(/Attempts not delivered/).fill("0");
    await panel.getByRole("button", { name: "Save alerts" }).click();
    await panel.getByText("A whole number from 1 to 100, or empty for off.").waitFor();
    await panel.screenshot({ path: `${ARTIFACTS}alerts-edit-error.png` });
    await panel.getByLabel(/Attempts not delivered/).fill("");
    await panel.getByRole("button", { name: "Save alerts" }).click();
    await panel.getByText("Alerts saved.").waitFor();
    await panel.getByTestId("alert-error_rate").getByText("off").waitFor();
    offset += 11 * 60_000;
    await check();
    await page.reload();
    await panel.locator('[data-testid="alert-oldest_pending"][data-firing="true"]').getByText("firing").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}alerts-firing.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await panel.screenshot({ path: `${ARTIFACTS}alerts-firing-phone.png` });
    accept = true;
    await svc.admin("POST", `/api/v1/currents/${id}/retry-now`);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending === 0, 15_000, "delivered");
    await svc.app.services.engine.flush();
    await check();
    await panel.locator('[data-testid="alert-oldest_pending"][data-firing="false"]').getByText("ok").waitFor({ timeout: 10_000 });
    expect(consoleErrors).toEqual([]);
  }, 60_000);
  it("charts: finished minutes only, the axis fitted to the data, one unit per axis (backlog in events left, oldest pending in s right), legends naming the series", async () => {
    // The service's clock runs 3 minutes behind the browser's: its minutes are finished when the page draws them.
    const receiver = await startReceiver();
    const svc = await startService({ app: { seriesFlushMs: 200, now: () => Date.now() - 3 * 60_000 } });
    cleanup.push(() => receiver.close(), () => svc.close());
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"], { name: "Charted", partner: "custom_http", settings: { endpoint: receiver.url } });
    await svc.ingest(Array.from({ length: 40 }, (_, n) => sampleEvent("users.messages.email.Send", { n })));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}/series?window=hour`)).body.points.some((p: { delivered: number }) => p.delivered === 40), 15_000, "the minute written");
    const { page, consoleErrors } = await open(svc);
    await page.goto(`${svc.url}/#/currents/${id}`);
    const delivered = page.getByRole("figure", { name: "Events delivered per minute" });
    await delivered.locator("canvas").waitFor();
    const legend = await delivered.locator(".u-legend").textContent();
    expect(legend).toContain("delivered");
    expect(legend).toContain("failed attempts");
    expect(legend).not.toContain("--");
    // One unit per axis: events on the left, attempts on the right; the latency chart has one.
    expect(await delivered.locator(".u-axis").count()).toBe(3);
    expect(await page.getByRole("figure", { name: "Batch latency" }).locator(".u-axis").count()).toBe(2);
    await page.getByRole("figure", { name: "Backlog and oldest pending" }).locator("canvas").waitFor();
    expect(await page.getByRole("figure", { name: "Backlog and oldest pending" }).locator(".u-axis").count()).toBe(3);
    await page.screenshot({ path: `${ARTIFACTS}charts.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await delivered.locator("canvas").waitFor();
    await page.getByRole("heading", { name: "Charts" }).screenshot({ path: `${ARTIFACTS}charts-heading-phone.png` });
    await page.screenshot({ path: `${ARTIFACTS}charts-phone.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);
  it("small things a new user meets: the login page says where the token comes from; the ingest-keys page's curl works as pasted (no uuidgen) and a second paste is deduplicated", async () => {
    const svc = await startService({ app: { seriesFlushMs: 200 } });
    cleanup.push(() => svc.close());
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    cleanup.push(() => context.close());
    const login = await context.newPage();
    await login.goto(svc.url);
    await login.getByText(/printed an admin token once/).waitFor();
    await login.screenshot({ path: `${ARTIFACTS}login-phone.png`, fullPage: true });
    const { page, consoleErrors } = await open(svc);
    await page.getByRole("link", { name: "Ingest keys" }).click();
    await page.getByRole("button", { name: "Create ingest key" }).click();
    await page.getByTestId("new-key").waitFor();
    const curl = (await page.getByTestId("first-event-curl").textContent()) ?? "";
    expect(curl).not.toContain("uuidgen");
    await page.screenshot({ path: `${ARTIFACTS}ingest-keys.png`, fullPage: true });
    const run = () => new Promise<string>((resolve, reject) => {
      const sh = spawn("bash", ["-c", curl]);
      let out = "";
      sh.stdout.on("data", (c: Buffer) => (out += c.toString()));
      sh.on("error", reject);
      sh.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}: ${out}`))));
    });
    expect(JSON.parse(await run())).toMatchObject({ accepted: 1 });
    expect(JSON.parse(await run())).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
