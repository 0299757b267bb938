import type { SourceKind, SourceKindId } from "./define-source.js";
import { mailgun } from "./mailgun.js";
import { postmark } from "./postmark.js";
import { sendgrid } from "./sendgrid.js";
import { ses } from "./ses.js";
import { twilioSms } from "./twilio.js";

/** Every source kind, by id. */
export const sourceKinds: { readonly [K in SourceKindId]: SourceKind } = { sendgrid, mailgun, postmark, twilio: twilioSms, ses };

export function sourceKindById(id: string): SourceKind | undefined {
  return Object.hasOwn(sourceKinds, id) ? sourceKinds[id as SourceKindId] : undefined;
}
