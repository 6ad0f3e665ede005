// The REST routes (ARCHITECTURE.md "REST"), as inline handlers over a small pattern table. Errors
// are thrown as ApiError and turned into `{error: {code, message}}` with their status here.
import { PipelineConfigError, errorMessage } from "../core/errors.ts";
import { listPipelines, loadPipeline } from "../core/loader.ts";
import { EXECUTION_STATUSES, type ExecutionStatus } from "../protocol/events.ts";
import { type ExecutionListResponse, RunRequestSchema } from "../protocol/server-api.ts";
import type { EventLog } from "./event-log.ts";
import type { ExecutionManager } from "./execution-manager.ts";
import { ApiError, errorResponse, maskSecrets, readJsonBody, secretValues } from "./security.ts";

export interface ApiContext {
  log: EventLog;
  manager: ExecutionManager;
  /** whose `pipelines/` folder is listed */
  cwd: string;
  maxBodyBytes: number;
}

const ID = /^[a-z0-9-]+$/;

type Handler = (req: Request, params: string[], url: URL) => Response | Promise<Response>;
interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

/** Returns the handler of every `/api/*` request: a route's response, 405 for a wrong method, 404 JSON otherwise. */
export function createApi(ctx: ApiContext): (req: Request, url: URL) => Promise<Response> {
  const { log, manager } = ctx;
  const executionOr404 = (id: string) => {
    const row = log.getExecution(id);
    if (!row) throw new ApiError(404, "execution_not_found", `no execution with id ${id}`);
    return row;
  };

  const routes: Route[] = [
    { pattern: /^\/api\/health$/, methods: { GET: () => Response.json({ ok: true }) } },
    {
      pattern: /^\/api\/pipelines$/,
      methods: { GET: async () => Response.json({ pipelines: await listPipelines({ cwd: ctx.cwd }) }) },
    },
    {
      pattern: /^\/api\/pipelines\/([^/]+)$/,
      methods: {
        GET: async (_req, [id]) => {
          const entry = await findPipeline(id as string, ctx.cwd);
          if (!entry.valid) return Response.json({ ...entry, config: null, warnings: [] });
          const loaded = await loadPipeline(entry.source, { cwd: ctx.cwd });
          return Response.json({ ...entry, config: loaded.config, warnings: loaded.warnings });
        },
      },
    },
    {
      pattern: /^\/api\/pipelines\/([^/]+)\/run$/,
      methods: {
        POST: async (req, [id]) => {
          const body = RunRequestSchema.safeParse(await readJsonBody(req, ctx.maxBodyBytes));
          if (!body.success) {
            const issue = body.error.issues[0];
            throw new ApiError(400, "bad_request", `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
          }
          const entry = await findPipeline(id as string, ctx.cwd);
          if (!entry.valid) {
            throw new ApiError(400, "invalid_pipeline", `pipeline ${entry.id} is invalid: ${entry.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
          }
          const { config } = await loadPipeline(entry.source, { cwd: ctx.cwd });
          const { input, mode, tool } = body.data;
          const executionId = manager.start(config, input, { ...(mode ? { mode } : {}), ...(tool ? { tool } : {}) });
          return Response.json({ executionId }, { status: 202 });
        },
      },
    },
    {
      pattern: /^\/api\/executions$/,
      methods: {
        GET: (_req, _p, url) => {
          const status = url.searchParams.get("status");
          if (status !== null && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
            throw new ApiError(400, "bad_query", `status must be one of ${EXECUTION_STATUSES.join(", ")}; got "${status}"`);
          }
          const limit = wholeParam(url, "limit", 100, 1, 1000);
          const offset = wholeParam(url, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
          const pipelineId = url.searchParams.get("pipelineId");
          if (pipelineId !== null && !ID.test(pipelineId)) {
            throw new ApiError(400, "bad_query", `pipelineId must match [a-z0-9-]+; got ${JSON.stringify(pipelineId)}`);
          }
          const page = manager.page({
            ...(status !== null ? { status: status as ExecutionStatus } : {}),
            ...(pipelineId !== null ? { pipelineId } : {}),
            limit,
            offset,
          });
          return Response.json(page satisfies ExecutionListResponse);
        },
      },
    },
    {
      pattern: /^\/api\/executions\/([^/]+)$/,
      methods: {
        GET: (_req, [id]) => {
          const snapshot = manager.snapshot(id as string);
          if (!snapshot) throw new ApiError(404, "execution_not_found", `no execution with id ${id}`);
          return Response.json(snapshot);
        },
      },
    },
    {
      pattern: /^\/api\/executions\/([^/]+)\/stages\/([^/]+)\/output$/,
      methods: {
        GET: (_req, [id, stageId]) => {
          executionOr404(id as string);
          if (!log.hasStage(id as string, stageId as string)) {
            throw new ApiError(404, "stage_not_found", `execution ${id} has no stage ${stageId}`);
          }
          manager.flush(); // pending chunks are stored first, so the text is current
          const chunks = log.stageOutput(id as string, stageId as string);
          const encoder = new TextEncoder();
          // Streamed page by page from the log: a large output never sits whole in memory.
          const stream = new ReadableStream<Uint8Array>({
            pull(controller) {
              const next = chunks.next();
              if (next.done) controller.close();
              else controller.enqueue(encoder.encode(next.value));
            },
          });
          return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
        },
      },
    },
    {
      pattern: /^\/api\/executions\/([^/]+)\/cancel$/,
      methods: {
        POST: (_req, [id]) => {
          executionOr404(id as string);
          const result = manager.cancel(id as string);
          if (result === "already_ended") throw new ApiError(409, "not_running", `execution ${id} has already ended`);
          return Response.json({ executionId: id, cancelled: true }, { status: 202 });
        },
      },
    },
  ];

  return async (req: Request, url: URL): Promise<Response> => {
    for (const route of routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      let params: string[];
      try {
        params = m.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        return errorResponse(400, "bad_request", `malformed percent-encoding in ${url.pathname}`);
      }
      const handler = route.methods[req.method] ?? (req.method === "HEAD" ? route.methods.GET : undefined);
      const allow = Object.keys(route.methods).join(", ");
      if (!handler) return errorResponse(405, "method_not_allowed", `${req.method} is not allowed on ${url.pathname}; use ${allow}`, { allow });
      try {
        return await handler(req, params, url);
      } catch (err) {
        if (err instanceof ApiError) return errorResponse(err.status, err.code, err.message);
        if (err instanceof PipelineConfigError) return errorResponse(400, "invalid_pipeline", err.message);
        console.error(`stagecast: ${req.method} ${url.pathname} failed: ${maskSecrets(errorMessage(err), secretValues())}`);
        return errorResponse(500, "internal", "the server could not complete this request");
      }
    }
    return errorResponse(404, "not_found", `no API route ${url.pathname}`);
  };
}

/** A whole-number query parameter within [min, max], or `fallback` when absent; 400 bad_query otherwise. */
function wholeParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new ApiError(400, "bad_query", `${name} must be a whole number ${range}; got ${JSON.stringify(text)}`);
  }
  return value;
}

async function findPipeline(id: string, cwd: string) {
  // Ids only: a path here would let a request load any file on the machine.
  if (!ID.test(id)) throw new ApiError(404, "pipeline_not_found", `no pipeline with id ${JSON.stringify(id)}`);
  const entry = (await listPipelines({ cwd })).find((p) => p.id === id && !p.shadowed);
  if (!entry) throw new ApiError(404, "pipeline_not_found", `no pipeline with id ${id}`);
  return entry;
}
