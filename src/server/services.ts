import type { Logger } from "pino";
import type { Alerts } from "../currents/alerts.js";
import type { Config } from "../config.js";
import type { CurrentService } from "../currents/current-service.js";
import type { DeliveryEngine } from "../delivery/delivery-engine.js";
import type { Metrics } from "./metrics.js";
import type { IngestGuard } from "../ingest/ingest-guard.js";
import type { CredentialService } from "../security/credential-service.js";
import type { WebhookReceiver } from "../sources/receive-webhook.js";
import type { SourceService } from "../sources/source-service.js";
import type { Store } from "../store/port.js";
import type { CohortService } from "../cohorts/cohort-service.js";
import type { DataImportKeys } from "../cohorts/import-keys.js";

/** What the HTTP routes are given: the library's services, nothing driver-specific. */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly credentials: CredentialService;
  readonly currents: CurrentService;
  readonly engine: DeliveryEngine;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly ingestGuard: IngestGuard;
  readonly sources: SourceService;
  readonly webhooks: WebhookReceiver;
  readonly cohorts: CohortService;
  readonly importKeys: DataImportKeys;
  readonly alerts: Alerts;
}
