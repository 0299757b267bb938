/**
 * Vocabulary of the event catalog. An event type (e.g. `users.messages.email.Send`) belongs to
 * one group and one channel and lists the fields an event of that type carries, each at a
 * location in the exported JSON (see SPEC section 3).
 */
export type EventGroupId = "message_engagement" | "customer_behavior" | "user" | "currents_extension";

export type FieldType =
  | "string" | "int" | "long" | "float" | "boolean"
  | "array<string>" | "array<double>" | "array<boolean>" | "array<long>";

/** Where a field sits in an event: top level, under `user`, under `properties`, or the nested object. */
export type FieldLocation =
  | "top" | "user" | "properties"
  | "properties.custom_properties" | "properties.purchase_properties";

export interface FieldDefinition {
  readonly name: string;
  readonly type: FieldType | string;
  readonly required: boolean;
  readonly location: FieldLocation | string;
  /** Personal data: offered first for field transformations. */
  readonly pii?: boolean;
}

export interface EventTypeDefinition {
  readonly type: string;
  readonly group: EventGroupId | string;
  readonly channel: string;
  /** `current`, or `deprecated_or_removed` (still accepted and exported, shown as deprecated). */
  readonly status: string;
  readonly description: string;
  readonly fields: readonly FieldDefinition[];
}
