// `stagecast web`'s server: inline REST handlers, /ws, and the dashboard's assets, on Bun.serve.
// Every refusal is `{error: {code, message}}` with the status ARCHITECTURE.md fixes.
import type { Server } from "bun";
import { errorMessage } from "../core/errors.ts";
import { createApi } from "./api-routes.ts";
import { EventLog } from "./event-log.ts";
import { ExecutionManager, type ExecutorFactory } from "./execution-manager.ts";
import type { ExecutorOptions } from "../core/types.ts";
import {
  ApiError,
  DEFAULT_MAX_BODY_BYTES,
  errorResponse,
  findToken,
  hostAllowed,
  isListedOrigin,
  isLoopbackHost,
  maskSecrets,
  originAllowed,
  secretValues,
  tokenCookie,
} from "./security.ts";
import { serveStatic } from "./static.ts";
import { type SocketData, WsHub } from "./ws-hub.ts";

export interface ServerOptions {
  port?: number;
  host?: string;
  dataDir: string;
  cwd: string;
  token?: string;
  allowOrigins?: string[];
  maxConcurrent?: number;
  webDir?: string;
  maxBodyBytes?: number;
  /** Per-socket bound on unsent bytes before a subscriber is told to resubscribe. */
  maxBufferedBytes?: number;
  createExecutor?: ExecutorFactory;
  executorOptions?: Partial<ExecutorOptions>;
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  manager: ExecutionManager;
  hub: WsHub;
  server: Server<SocketData>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const loopback = isLoopbackHost(host);
  const token = opts.token || undefined;
  if (!loopback && !token) {
    throw new ApiError(
      400,
      "token_required",
      `refusing to listen on ${host}: a non-loopback host needs a token (--token or STAGECAST_TOKEN)`,
    );
  }
  const allowOrigins = opts.allowOrigins ?? [];
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const log = new EventLog(opts.dataDir);
  const manager = new ExecutionManager({
    log,
    dataDir: opts.dataDir,
    ...(opts.maxConcurrent !== undefined ? { maxConcurrent: opts.maxConcurrent } : {}),
    ...(opts.createExecutor ? { createExecutor: opts.createExecutor } : {}),
    ...(opts.executorOptions ? { executorOptions: opts.executorOptions } : {}),
  });
  const hub = new WsHub(log, manager, opts.maxBufferedBytes !== undefined ? { maxBufferedBytes: opts.maxBufferedBytes } : {});
  manager.onEvents = (id, batch) => hub.publish(id, batch);
  manager.onExecutionsChanged = () => hub.broadcastExecutions();

  const api = createApi({ log, manager, cwd: opts.cwd, maxBodyBytes: maxBody });

  // Only origins named with --allow-origin get CORS headers; the server's own pages need none.
  const withCors = (req: Request, res: Response | undefined): Response | undefined => {
    const origin = req.headers.get("origin");
    if (res && isListedOrigin(origin, allowOrigins)) {
      res.headers.set("access-control-allow-origin", origin);
      res.headers.set("access-control-allow-credentials", "true");
      res.headers.append("vary", "Origin");
    }
    return res;
  };

  const handle = async (req: Request, server: Server<SocketData>): Promise<Response | undefined> => {
    const url = new URL(req.url);
    if (req.method === "OPTIONS" && isListedOrigin(req.headers.get("origin"), allowOrigins)) {
      // A CORS preflight carries no token; the real request that follows is checked in full.
      return new Response(null, {
        status: 204,
        headers: { "access-control-allow-methods": "GET, POST", "access-control-allow-headers": "content-type, authorization", "access-control-max-age": "600" },
      });
    }
    if (!hostAllowed(req, loopback)) {
      return errorResponse(403, "forbidden_host", "this server only answers requests addressed to localhost");
    }
    const tokenSource = token ? findToken(req, url, token) : "header";
    if (!tokenSource) return errorResponse(401, "unauthorized", "a valid token is required (Authorization: Bearer <token>)");
    const stateChanging = req.method !== "GET" && req.method !== "HEAD";

    if (url.pathname === "/ws") {
      if (!originAllowed(req, allowOrigins)) return errorResponse(403, "forbidden_origin", "this Origin may not open the WebSocket");
      if (server.upgrade(req, { data: hub.newSocketData() })) return undefined;
      return errorResponse(400, "websocket_expected", "/ws speaks WebSocket only");
    }
    if (stateChanging && !originAllowed(req, allowOrigins)) {
      return errorResponse(403, "forbidden_origin", "requests from this Origin may not change anything");
    }
    if (url.pathname.startsWith("/api/") || url.pathname === "/api") return api(req, url);
    if (stateChanging) return errorResponse(405, "method_not_allowed", `${req.method} is not allowed here`, { allow: "GET, HEAD" });
    const res = await serveStatic(url.pathname, opts.webDir);
    // A browser opened with ?token= keeps the token in a cookie so its fetches and /ws carry it.
    if (token && tokenSource === "query") res.headers.append("set-cookie", tokenCookie(token));
    return res;
  };

  let server: Server<SocketData>;
  try {
    server = Bun.serve<SocketData>({
      hostname: host,
      port: opts.port ?? 0,
      // Our own 413 (JSON, per the contract) comes from readJsonBody, which refuses on the declared
      // length and counts streamed bodies, never buffering past maxBody; Bun's bound only has to sit
      // far above it, or Bun would answer first with an empty 413.
      maxRequestBodySize: Math.max(maxBody * 2, 64 * 1024 * 1024),
      fetch: async (req, srv) => withCors(req, await handle(req, srv)),
      websocket: { ...hub.handlers, backpressureLimit: hub.backpressureLimit, closeOnBackpressureLimit: false },
      error: (err) => {
        console.error(`stagecast: ${maskSecrets(errorMessage(err), secretValues())}`);
        return errorResponse(500, "internal", "the server could not complete this request");
      },
    });
  } catch (err) {
    log.close();
    const code = (err as { code?: string }).code;
    if (code === "EADDRINUSE") throw new ApiError(500, "port_in_use", `port ${opts.port} on ${host} is already in use; pick another with --port`);
    throw err;
  }
  hub.attach(server);

  const shownHost = host.includes(":") ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${server.port}`,
    port: server.port as number,
    manager,
    hub,
    server,
    stop() {
      stopped ??= (async () => {
        await manager.stop();
        await server.stop(true);
        log.close();
      })();
      return stopped;
    },
  };
}
