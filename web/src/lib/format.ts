// Display formatting shared by the pages.
import type { ExecutionStatus } from "@protocol/events.ts";

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.floor(s % 60);
  if (m < 60) return `${m} min ${rest.toString().padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${(m % 60).toString().padStart(2, "0")} min`;
}

export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export const STATUS_LABEL: Record<ExecutionStatus, string> = {
  queued: "Queued",
  running: "Running",
  success: "Succeeded",
  early_exit: "Exited early",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};
