import nodemailer, { type Transporter } from "nodemailer";
import type { Logger } from "pino";
import { request } from "undici";
import type { CurrentRecord } from "../currents/model.js";
import type { Store } from "../store/port.js";

/** The notices a Current's contact gets (SPEC section 5, issue 3). */
export type NoticeKind = "failing" | "recovered" | "disabled" | "dead_letters" | "alert" | "alert_recovered";

export interface NotifierOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => number;
  /** `smtp://user:pass@host:port` or `smtps://...`; email is sent only when set. */
  readonly smtpUrl?: string;
  readonly smtpFrom?: string;
  /** Every notice is also POSTed here as JSON when set. */
  readonly webhookUrl?: string;
}

const SUBJECTS: Record<NoticeKind, string> = {
  failing: "is failing",
  recovered: "has recovered",
  disabled: "was disabled",
  dead_letters: "has dead letters",
  alert: "crossed an alert threshold",
  alert_recovered: "is back under its alert threshold",
};

/**
 * Sends notices: always to the log and to the Current's history (the dashboard shows it),
 * by email to the contact when SMTP is configured (nodemailer), and to the notification
 * webhook when set. A channel that fails is logged and never breaks delivery.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  readonly #mail: Transporter | undefined;
  #pending = new Set<Promise<void>>();

  constructor(options: NotifierOptions) {
    this.#o = options;
    this.#mail = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  }

  async notify(current: CurrentRecord, kind: NoticeKind, message: string): Promise<void> {
    const at = this.#o.now();
    this.#o.logger.warn({ currentId: current.id, notice: kind }, message);
    await this.#o.store.config.addHistory({ currentId: current.id, at, kind: "notice", status: kind, message });
    const subject = `Currents: "${current.name}" ${SUBJECTS[kind]}`;
    const work: Array<Promise<unknown>> = [];
    if (this.#mail && current.contactEmail) {
      work.push(this.#mail.sendMail({
        from: this.#o.smtpFrom ?? "currents@localhost",
        to: current.contactEmail,
        subject,
        text: `${message}\n\nCurrent: ${current.name} (${current.id}), partner ${current.partner}, workspace ${current.workspace}.\n`,
      }));
    }
    if (this.#o.webhookUrl) {
      // Credentials in the URL (https://user:pass@host/...) go as Basic auth: fetch-style clients drop them.
      const url = new URL(this.#o.webhookUrl);
      const auth = url.username || url.password
        ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}` } : {};
      url.username = "";
      url.password = "";
      work.push(request(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({ kind, subject, message, at: new Date(at).toISOString(), current: { id: current.id, name: current.name, partner: current.partner, workspace: current.workspace } }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      }).then((res) => res.body.dump()));
    }
    const p = Promise.allSettled(work).then((results) => {
      for (const r of results) {
        if (r.status === "rejected") this.#o.logger.error({ currentId: current.id, notice: kind, error: String((r.reason as Error)?.message ?? r.reason) }, "a notice could not be sent");
      }
    });
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Waits for notices being sent (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  close(): void {
    this.#mail?.close();
  }
}
