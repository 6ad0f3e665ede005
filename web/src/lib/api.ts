// Typed fetch helpers for the REST API (ARCHITECTURE.md "REST"). Every failure becomes an ApiError
// carrying the server's `{error: {code, message}}`, so pages can show exactly what went wrong.
import type { ExecutionStatus } from "@protocol/events.ts";
import type { PipelineConfig, ValidationIssue } from "@protocol/pipeline.ts";
import type { ApiErrorBody, ExecutionListResponse, ExecutionSnapshot, RunRequest } from "@protocol/server-api.ts";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** One row of `GET /api/pipelines` (the server's PipelineListing, without its file path). */
export interface PipelineListing {
  id: string;
  name: string;
  description?: string;
  stageCount: number;
  builtin: boolean;
  valid: boolean;
  /** the problems when `valid` is false; warnings otherwise */
  issues: ValidationIssue[];
  shadowed?: boolean;
}

/** `GET /api/pipelines/:id`: the validated config, or null with the problems in `issues`. */
export interface PipelineDetail extends PipelineListing {
  config: PipelineConfig | null;
  warnings: ValidationIssue[];
}

export type { RunRequest };
export type RunMode = NonNullable<RunRequest["mode"]>;
export type RunTool = NonNullable<RunRequest["tool"]>;

export interface ExecutionQuery {
  status?: ExecutionStatus;
  pipelineId?: string;
  limit?: number;
  offset?: number;
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  const e = (body as ApiErrorBody | null)?.error;
  return typeof e === "object" && e !== null && typeof e.code === "string" && typeof e.message === "string";
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "the stagecast server could not be reached; is `stagecast web` still running?");
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // not JSON: handled below
  }
  if (!res.ok) {
    if (isErrorBody(body)) throw new ApiError(res.status, body.error.code, body.error.message);
    throw new ApiError(res.status, "http_error", `${init?.method ?? "GET"} ${path} failed with HTTP ${res.status}`);
  }
  if (body === undefined) throw new ApiError(res.status, "bad_response", `${path} did not answer with JSON`);
  return body as T;
}

const enc = encodeURIComponent;

export const api = {
  pipelines: () => request<{ pipelines: PipelineListing[] }>("/api/pipelines").then((r) => r.pipelines),
  pipeline: (id: string) => request<PipelineDetail>(`/api/pipelines/${enc(id)}`),
  run: (pipelineId: string, body: RunRequest) =>
    request<{ executionId: string }>(`/api/pipelines/${enc(pipelineId)}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.executionId),
  executions(query: ExecutionQuery = {}): Promise<ExecutionListResponse> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
    const qs = params.toString();
    return request<ExecutionListResponse>(`/api/executions${qs ? `?${qs}` : ""}`);
  },
  snapshot: (id: string) => request<ExecutionSnapshot>(`/api/executions/${enc(id)}`),
  cancel: (id: string) => request<{ executionId: string; cancelled: boolean }>(`/api/executions/${enc(id)}/cancel`, { method: "POST" }),
  outputUrl: (executionId: string, stageId: string) => `/api/executions/${enc(executionId)}/stages/${enc(stageId)}/output`,
};

/** A message fit to show a user, whatever was thrown. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  return { code: "error", message: err instanceof Error ? err.message : String(err) };
}
