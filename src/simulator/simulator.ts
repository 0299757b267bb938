import { randomUUID } from "node:crypto";
import { type EventContext, buildEvent } from "./build-event.js";

/**
 * An engagement simulator that models real traffic: a population of users across time zones
 * and platforms; campaigns and Canvases sending email, push, SMS, in-app messages and content
 * cards with funnels (send -> delivery -> open -> click, bounces, soft bounces, unsubscribes,
 * spam reports); app sessions with custom events and purchases; subscription changes.
 * Deterministic for a given seed.
 */
export interface SimulatorOptions {
  readonly seed?: number;
  readonly users?: number;
  readonly now?: () => number;
}

const TIMEZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"];
const PLATFORMS = [["ios", "iPhone15,2", "17.5"], ["android", "Pixel 8", "14"], ["web", "Chrome", "126"], ["ios", "iPad13,1", "17.4"], ["android", "SM-S918B", "14"]] as const;
const CAMPAIGNS = ["Black Friday Weekend", "Welcome Series", "Cart Reminder", "Winback 60 days", "New Arrivals", "Price Drop Alert"];
const CUSTOM_EVENTS = [["viewed_product", { category: "shoes" }], ["added_to_cart", { items: 2 }], ["searched", { query: "running shoes" }], ["shared_wishlist", { size: 4 }]] as const;
const PRODUCTS = [["sku-runner-42", 129.99], ["sku-hoodie-m", 59.5], ["sku-socks-3p", 14.0], ["sku-cap-blue", 24.99]] as const;
const CURRENCIES = ["USD", "EUR", "GBP", "JPY", "BRL"];

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class EngagementSimulator {
  readonly #rnd: () => number;
  readonly #users: EventContext[];
  readonly #now: () => number;
  #queue: Array<Record<string, unknown>> = [];

  constructor(options: SimulatorOptions = {}) {
    this.#rnd = prng(options.seed ?? 42);
    this.#now = options.now ?? Date.now;
    this.#users = Array.from({ length: options.users ?? 500 }, (_, i) => {
      const [platform, model, os] = this.#pick(PLATFORMS);
      return {
        user_id: `user-${i.toString(36).padStart(5, "0")}`,
        external_user_id: `ext-${1000 + i}`,
        device_id: randomUUID(),
        timezone: this.#pick(TIMEZONES),
        email_address: `customer${i}@example.com`,
        phone_number: `+1555${String(1_000_000 + i).slice(-7)}`,
        platform, device_model: model, os_version: os,
        app_id: platform === "web" ? "app-web" : `app-${platform}`,
        app_group_id: "workspace-demo",
      };
    });
  }

  #pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.#rnd() * list.length)] as T;
  }

  #chance(p: number): boolean {
    return this.#rnd() < p;
  }

  /** The next `n` events. */
  next(n: number): Array<Record<string, unknown>> {
    while (this.#queue.length < n) this.#queue.push(...this.#scenario());
    return this.#queue.splice(0, n);
  }

  #scenario(): Array<Record<string, unknown>> {
    const user = this.#pick(this.#users);
    const time = Math.floor(this.#now() / 1000);
    const r = this.#rnd();
    const campaignName = this.#pick(CAMPAIGNS);
    const message: EventContext = {
      ...user,
      campaign_id: `cmp-${campaignName.length}-${campaignName.slice(0, 3).toLowerCase()}`,
      campaign_name: campaignName,
      message_variation_id: `var-${this.#chance(0.5) ? "a" : "b"}`,
      dispatch_id: randomUUID(),
      send_id: randomUUID(),
    };
    const ev = (type: string, extra: EventContext = {}) => buildEvent(type, { ...message, ...extra }, time, this.#rnd);
    const out: Array<Record<string, unknown>> = [];
    if (r < 0.3) {
      out.push(ev("users.messages.email.Send"));
      if (this.#chance(0.02)) out.push(ev("users.messages.email.Bounce", { bounce_reason: "550 mailbox unavailable" }));
      else if (this.#chance(0.03)) out.push(ev("users.messages.email.SoftBounce", { bounce_reason: "452 mailbox full" }));
      else {
        out.push(ev("users.messages.email.Delivery"));
        if (this.#chance(0.4)) {
          out.push(ev("users.messages.email.Open", { user_agent: "Mozilla/5.0", machine_open: this.#chance(0.3) ? "true" : undefined }));
          if (this.#chance(0.3)) out.push(ev("users.messages.email.Click", { url: "https://shop.example.com/deals", user_agent: "Mozilla/5.0" }));
          if (this.#chance(0.02)) out.push(ev("users.messages.email.Unsubscribe"));
          if (this.#chance(0.003)) out.push(ev("users.messages.email.MarkAsSpam"));
        }
      }
    } else if (r < 0.45) {
      out.push(ev("users.messages.pushnotification.Send"));
      if (this.#chance(0.03)) out.push(ev("users.messages.pushnotification.Bounce"));
      else if (this.#chance(0.12)) out.push(ev("users.messages.pushnotification.Open"));
    } else if (r < 0.55) {
      out.push(ev("users.messages.sms.Send", { to_phone_number: user.phone_number }));
      out.push(ev("users.messages.sms.CarrierSend", { to_phone_number: user.phone_number }));
      out.push(ev(this.#chance(0.97) ? "users.messages.sms.Delivery" : "users.messages.sms.DeliveryFailure", { to_phone_number: user.phone_number }));
      if (this.#chance(0.05)) out.push(ev("users.messages.sms.ShortLinkClick", { url: "https://shop.example.com/s/abc" }));
    } else if (r < 0.62) {
      out.push(ev("users.messages.inappmessage.Impression"));
      if (this.#chance(0.2)) out.push(ev("users.messages.inappmessage.Click", { button_id: "0" }));
    } else if (r < 0.7) {
      out.push(ev("users.messages.contentcard.Send"));
      if (this.#chance(0.6)) out.push(ev("users.messages.contentcard.Impression"));
      if (this.#chance(0.15)) out.push(ev("users.messages.contentcard.Click"));
      else if (this.#chance(0.1)) out.push(ev("users.messages.contentcard.Dismiss"));
    } else if (r < 0.97) {
      const session = { session_id: randomUUID() };
      out.push(ev("users.behaviors.app.SessionStart", session));
      for (let i = Math.floor(this.#rnd() * 4); i > 0; i--) {
        const [name, props] = this.#pick(CUSTOM_EVENTS);
        out.push(ev("users.behaviors.CustomEvent", { name, custom_properties: { ...props } }));
      }
      if (this.#chance(0.1)) {
        const [product, price] = this.#pick(PRODUCTS);
        out.push(ev("users.behaviors.Purchase", { product_id: product, price, currency: this.#pick(CURRENCIES), purchase_properties: { gift: this.#chance(0.1) } }));
      }
      out.push(ev("users.behaviors.app.SessionEnd", { ...session, duration: Math.round(this.#rnd() * 600 * 100) / 100 }));
    } else {
      out.push(ev("users.behaviors.subscription.GlobalStateChange", { subscription_status: this.#chance(0.7) ? "Subscribed" : "Unsubscribed", channel: "email", state_change_source: "Preference Center" }));
    }
    return out;
  }
}
