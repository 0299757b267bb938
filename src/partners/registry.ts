import { customHttp } from "./custom-http/index.js";
import type { PartnerDefinition, PartnerId } from "./define-partner.js";
import { heap } from "./heap/index.js";
import { heapApi } from "./heap-api/index.js";
import { amplitude } from "./amplitude/index.js";
import { mixpanel } from "./mixpanel/index.js";
import { segment } from "./segment/index.js";
import { storage } from "./storage/index.js";

/** Every partner, by id. A partner id without a definition does not compile. */
export const partners: { readonly [K in PartnerId]: PartnerDefinition & { id: K } } = {
  heap: heap as PartnerDefinition & { id: "heap" },
  heap_api: heapApi as PartnerDefinition & { id: "heap_api" },
  custom_http: customHttp as PartnerDefinition & { id: "custom_http" },
  amplitude: amplitude as PartnerDefinition & { id: "amplitude" },
  mixpanel: mixpanel as PartnerDefinition & { id: "mixpanel" },
  segment: segment as PartnerDefinition & { id: "segment" },
  storage: storage as PartnerDefinition & { id: "storage" },
};

export function partnerById(id: string): PartnerDefinition | undefined {
  return Object.hasOwn(partners, id) ? partners[id as PartnerId] : undefined;
}

export function describePartners() {
  return Object.values(partners).map((p) => ({
    id: p.id,
    title: p.title,
    description: p.description,
    settings: p.settings,
    limits: p.limits,
    ...(p.testEventsNote ? { testEventsNote: p.testEventsNote } : {}),
  }));
}
