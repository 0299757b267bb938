import type { CohortChange, CohortRecord, DataImportKeyRecord } from "./port.js";

/** Rows of the cohort tables, as both adapters read them (bigints read as numbers). */
export interface CohortRow {
  id: string; workspace_id: string; partner: string; cohort_id: string; name: string;
  created_at: number; imported_at: number; updated_at: number; size: number; version: number;
}
export interface ImportKeyRow { id: string; workspace_id: string; key_hash: string; hint: string; created_at: number }

export const toCohort = (r: CohortRow): CohortRecord => ({
  id: r.id, workspace: r.workspace_id, partner: r.partner, cohortId: r.cohort_id, name: r.name,
  createdAt: Number(r.created_at), importedAt: Number(r.imported_at), updatedAt: Number(r.updated_at), size: Number(r.size), version: Number(r.version),
});

export const toChange = (r: { at: number; request_id: string; joined: number; left_count: number; size_after: number; name: string | null }): CohortChange => ({
  at: Number(r.at), requestId: r.request_id, joined: Number(r.joined), left: Number(r.left_count), sizeAfter: Number(r.size_after), name: r.name,
});

export const toImportKey = (r: ImportKeyRow): DataImportKeyRecord => ({ id: r.id, workspace: r.workspace_id, keyHash: r.key_hash, hint: r.hint, createdAt: Number(r.created_at) });

/** A case-insensitive LIKE pattern matching `text` anywhere (%, _ and \ escaped). */
export const likePattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A member as the key `present` answers with. */
export const memberKey = (m: { kind: string; key: string }): string => `${m.kind}\u0000${m.key}`;
