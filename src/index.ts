/** The public surface of the `currents` package. */
export { createCurrents } from "./app.js";
export type { CurrentsApp, CurrentsOptions } from "./app.js";
export { loadConfig, ConfigError, defaultDelivery } from "./config.js";
export type { Config, DeliveryDefaults } from "./config.js";
export { validateEvent } from "./catalog/validate-event.js";
export { eventTypesByGroup, allEventTypes } from "./catalog/catalog.js";
export { partners, partnerById } from "./partners/registry.js";
export type { PartnerDefinition } from "./partners/define-partner.js";
export type { CurrentRecord, CurrentStatus, Transformation } from "./currents/model.js";
export type { Store, EventLog } from "./store/port.js";
export { openSqliteStore } from "./store/sqlite/index.js";
export { backoffDelayMs, retryDelayMs, parseRetryAfterMs, defaultRetryPolicy } from "./delivery/retry-policy.js";
export { decideOnStatus } from "./delivery/attempt-outcome.js";
