import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { ALERT_KINDS, type AlertRules, defaultAlertRules } from "../../currents/alerts.js";
import { Nullable, Time, op } from "../api-schemas.js";
import type { Services } from "../services.js";

const Rules = Type.Object({
  oldestPendingMinutes: Nullable(Type.Integer({ minimum: 1, maximum: 10_080, description: "Alert when the oldest pending event waited this long (minutes); null: off" })),
  errorRatePercent: Nullable(Type.Integer({ minimum: 1, maximum: 100, description: "Alert when this share of the attempts of the last 15 minutes did not deliver (at least 10 attempts); null: off" })),
  deadLetters: Nullable(Type.Integer({ minimum: 1, maximum: 10_000_000, description: "Alert when this many dead letters are held; null: off" })),
}, { additionalProperties: false });
const AlertsView = Type.Object({
  rules: Rules, custom: Type.Boolean({ description: "False: the defaults apply" }), defaults: Rules,
  alerts: Type.Array(Type.Object({
    kind: Type.Union(ALERT_KINDS.map((k) => Type.Literal(k))), threshold: Nullable(Type.Integer()), value: Nullable(Type.Number()),
    firing: Type.Boolean(), since: Nullable(Time),
  })),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** A Current's alerts: thresholds on oldest pending, error rate and dead letters, with their state. */
export function alertRoutes(app: FastifyInstance, s: Services): void {
  const view = async (id: string) => {
    const { rules, custom } = await s.alerts.rules(id);
    const alerts = (await s.alerts.status(id)).map((a) => ({ ...a, since: a.since === null ? null : new Date(a.since).toISOString() }));
    return { rules, custom, defaults: defaultAlertRules, alerts };
  };
  app.get("/api/v1/currents/:id/alerts", {
    schema: op({ id: "getAlerts", summary: "A Current's alert thresholds and whether each is firing", tag: "Delivery", auth: "admin", params: IdParams, errors: [404], ok: { status: 200, schema: AlertsView, description: "Thresholds and state" } }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    await s.currents.record(id);
    return view(id);
  });
  app.put("/api/v1/currents/:id/alerts", {
    schema: op({
      id: "setAlerts", summary: "Sets a Current's alert thresholds (null turns one off; DELETE goes back to the defaults)", tag: "Delivery", auth: "admin", params: IdParams,
      body: Rules, errors: [403, 404], ok: { status: 200, schema: AlertsView, description: "Saved" },
    }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    await s.currents.record(id);
    await s.alerts.setRules(id, req.body as AlertRules);
    return view(id);
  });
  app.delete("/api/v1/currents/:id/alerts", {
    schema: op({ id: "resetAlerts", summary: "Back to the default thresholds", tag: "Delivery", auth: "admin", params: IdParams, errors: [403, 404], ok: { status: 200, schema: AlertsView, description: "The defaults apply" } }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    await s.currents.record(id);
    await s.alerts.setRules(id, null);
    return view(id);
  });
}
