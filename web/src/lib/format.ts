// Display formatting shared by the pages.
import { formatDuration as formatStageDuration } from "@weblib/output/figures.ts";

/** A duration as the execution view shows it, or "—" when there is none. */
export function formatDuration(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? "—" : formatStageDuration(ms);
}

export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export { STATUS_LABEL } from "@weblib/status.ts";
