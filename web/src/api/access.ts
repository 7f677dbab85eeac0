// Who the dashboard's token is, and the audit log: reads that carry the token.
import { request, type Query } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type Whoami = S["WhoamiPublic"];
export type Scope = NonNullable<Whoami["scope"]>;
export type AuditEntry = S["AuditEntryPublic"];
export type AuditPage = S["AuditPublic"];

export interface AuditFilter {
  model?: string;
  action?: string;
  since?: string;
  limit?: number;
}

export const accessApi = {
  whoami: () => request<Whoami>("GET", "/whoami", { auth: true }),
  audit: (filter: AuditFilter) => request<AuditPage>("GET", "/audit", { query: filter as Query, auth: true }),
};
