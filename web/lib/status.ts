// Words for an execution's status, shared by the pages and the execution view.
import type { ExecutionStatus } from "../../src/protocol/events.ts";

export const STATUS_LABEL: Record<ExecutionStatus, string> = {
  queued: "Queued",
  running: "Running",
  success: "Succeeded",
  early_exit: "Exited early",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};
