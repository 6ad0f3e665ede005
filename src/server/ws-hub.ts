// /ws: subscribe with replay, live fan-out over Bun topics, the execution list, ping/pong.
//
// No gap, no duplicate: events are published only after the flush that stored them, and a
// subscriber replays from the log until it has sent everything committed, then joins the topic in
// that same synchronous step. Nothing can be published between its last replayed read and its
// subscribe, so the first live event is exactly the one after the last replayed one.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { CLIENT_MESSAGE_TYPES, ClientMessageSchema, type ServerMessage, type WsErrorCode } from "../protocol/server-api.ts";
import type { EventLog, FlushedEvent } from "./event-log.ts";
import type { ExecutionManager } from "./execution-manager.ts";

export interface SocketData {
  subs: Map<string, Subscription>;
}

interface Subscription {
  executionId: string;
  /** seq of the last event sent by replay */
  cursor: number;
  live: boolean;
  /** replay paused until the socket drains */
  waiting: boolean;
}

type Socket = ServerWebSocket<SocketData>;

export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const REPLAY_PAGE = 256;
const EXECUTIONS_TOPIC = "executions";
const topicOf = (executionId: string) => `execution:${executionId}`;

const KNOWN_TYPES: ReadonlySet<string> = new Set(CLIENT_MESSAGE_TYPES);

export interface WsHubOptions {
  /** A socket with more than this many bytes waiting is told to resubscribe instead of buffering more. */
  maxBufferedBytes?: number;
}

export class WsHub {
  readonly #log: EventLog;
  readonly #manager: ExecutionManager;
  readonly #maxBuffered: number;
  readonly #live = new Map<string, Set<Socket>>();
  #server: Server<SocketData> | undefined;
  /** how many subscribers were cut off for falling behind; tests and logs read it */
  slowConsumers = 0;
  onSlowConsumer: (executionId: string) => void = () => {};

  constructor(log: EventLog, manager: ExecutionManager, opts: WsHubOptions = {}) {
    this.#log = log;
    this.#manager = manager;
    this.#maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  attach(server: Server<SocketData>): void {
    this.#server = server;
  }

  newSocketData(): SocketData {
    return { subs: new Map() };
  }

  readonly handlers: WebSocketHandler<SocketData> = {
    message: (ws, message) => this.#onMessage(ws, message),
    drain: (ws) => {
      for (const sub of ws.data.subs.values()) {
        if (sub.waiting) {
          sub.waiting = false;
          this.#pump(ws, sub);
        }
      }
    },
    close: (ws) => {
      for (const id of ws.data.subs.keys()) this.#leaveLive(ws, id);
      ws.data.subs.clear();
    },
    // uWS sends protocol pings and closes a socket that stops answering: the transport heartbeat.
    sendPings: true,
    idleTimeout: 60,
    maxPayloadLength: 64 * 1024,
  };

  /** Sizes Bun's own per-socket limit above ours, so uWS never drops a message before we notice. */
  get backpressureLimit(): number {
    return Math.max(16 * 1024 * 1024, this.#maxBuffered * 4);
  }

  #send(ws: Socket, msg: ServerMessage): void {
    ws.send(JSON.stringify(msg));
  }

  #error(ws: Socket, code: WsErrorCode, message: string, executionId?: string): void {
    this.#send(ws, { type: "error", code, message, ...(executionId ? { executionId } : {}) });
  }

  #onMessage(ws: Socket, raw: string | Buffer): void {
    if (typeof raw !== "string") return this.#error(ws, "bad_message", "messages must be JSON text, not binary");
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return this.#error(ws, "bad_json", "the message is not valid JSON");
    }
    const type = (data as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !KNOWN_TYPES.has(type)) {
      return this.#error(ws, "unknown_type", `unknown message type ${JSON.stringify(type ?? null)}; expected one of ${[...KNOWN_TYPES].join(", ")}`);
    }
    const parsed = ClientMessageSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#error(ws, "bad_message", `${type}: ${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`);
    }
    const msg = parsed.data;
    switch (msg.type) {
      case "subscribe":
        return this.#subscribe(ws, msg.executionId, msg.since ?? 0);
      case "unsubscribe":
        if (!this.#drop(ws, msg.executionId)) this.#error(ws, "not_subscribed", `not subscribed to execution ${msg.executionId}`, msg.executionId);
        return;
      case "watch-executions":
        ws.subscribe(EXECUTIONS_TOPIC);
        ws.send(this.#executionsMessage());
        return;
      case "ping":
        this.#send(ws, { type: "pong" });
        return;
    }
  }

  #subscribe(ws: Socket, executionId: string, since: number): void {
    const row = this.#log.getExecution(executionId);
    if (!row) return this.#error(ws, "execution_not_found", `no execution with id ${executionId}`, executionId);
    this.#drop(ws, executionId);
    const sub: Subscription = { executionId, cursor: since, live: false, waiting: false };
    ws.data.subs.set(executionId, sub);
    this.#send(ws, { type: "subscribed", executionId, lastSeq: row.last_seq });
    this.#pump(ws, sub);
  }

  /** Replays stored events page by page, pausing while the socket is backed up, then goes live. */
  #pump(ws: Socket, sub: Subscription): void {
    const id = sub.executionId;
    while (ws.data.subs.get(id) === sub && !sub.live) {
      if (ws.getBufferedAmount() > this.#maxBuffered) {
        sub.waiting = true;
        return;
      }
      const page = this.#log.readEvents(id, sub.cursor, REPLAY_PAGE);
      if (page.length === 0) {
        sub.live = true;
        ws.subscribe(topicOf(id));
        let set = this.#live.get(id);
        if (!set) this.#live.set(id, (set = new Set()));
        set.add(ws);
        return;
      }
      for (const ev of page) {
        const status = ws.send(ev.body);
        if (status === 0) return this.#slow(ws, sub); // dropped: the client would have a gap
        sub.cursor = ev.seq;
        if (status === -1) {
          // Queued but backed up: wait for `drain` rather than piling the whole log into memory.
          sub.waiting = true;
          return;
        }
      }
    }
  }

  #drop(ws: Socket, executionId: string): boolean {
    const sub = ws.data.subs.get(executionId);
    if (!sub) return false;
    ws.data.subs.delete(executionId);
    if (sub.live) {
      ws.unsubscribe(topicOf(executionId));
      this.#leaveLive(ws, executionId);
    }
    return true;
  }

  /** An execution's entry goes with its last live subscriber, so the map does not grow with history. */
  #leaveLive(ws: Socket, executionId: string): void {
    const set = this.#live.get(executionId);
    if (set?.delete(ws) && set.size === 0) this.#live.delete(executionId);
  }

  #slow(ws: Socket, sub: Subscription): void {
    this.slowConsumers++;
    // The error goes out before leaving the topic: uWS flushes a socket's pending topic messages on
    // send, so the error is the last thing the client gets and its last seq is exact.
    this.#error(
      ws,
      "slow_consumer",
      `you fell too far behind on execution ${sub.executionId}; subscribe again with since set to the last seq you received`,
      sub.executionId,
    );
    this.#drop(ws, sub.executionId);
    this.onSlowConsumer(sub.executionId);
  }

  /** Fans a flushed batch out to the execution's topic, then cuts off any subscriber that cannot keep up. */
  publish(executionId: string, batch: FlushedEvent[]): void {
    const server = this.#server;
    const subscribers = this.#live.get(executionId);
    if (!server || !subscribers || subscribers.size === 0) return;
    const topic = topicOf(executionId);
    for (const { json } of batch) server.publish(topic, json);
    for (const ws of subscribers) {
      if (ws.getBufferedAmount() > this.#maxBuffered) {
        const sub = ws.data.subs.get(executionId);
        if (sub) this.#slow(ws, sub);
      }
    }
  }

  #executionsMessage(): string {
    const msg: ServerMessage = { type: "executions", executions: this.#manager.summaries() };
    return JSON.stringify(msg);
  }

  broadcastExecutions(): void {
    const server = this.#server;
    if (server && server.subscriberCount(EXECUTIONS_TOPIC) > 0) server.publish(EXECUTIONS_TOPIC, this.#executionsMessage());
  }
}
