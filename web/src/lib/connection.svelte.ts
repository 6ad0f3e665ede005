// The app's one WebSocket (/ws): reconnects with capped exponential backoff and jitter, resubscribes
// every active execution from the last seq it received (the server replays the rest, so no gap and
// no duplicate), resyncs when the tab becomes visible or the network returns, and keeps the
// execution list (`watch-executions`) that drives the running count.
import { type WireEvent, WireEventSchema } from "@protocol/events.ts";
import type { ClientMessage, ExecutionListItem, WsErrorCode } from "@protocol/server-api.ts";
import { z } from "zod";

export type ConnectionStatus = "connecting" | "open" | "reconnecting";

export interface ExecutionSubscriber {
  /** the last seq this subscriber has received: where a (re)subscription resumes */
  since(): number;
  /** events in arrival order, validated */
  onEvent(event: WireEvent): void;
  /** a server error about this execution (not found, too slow…); slow_consumer is handled here */
  onError?(code: WsErrorCode, message: string): void;
  /** the server accepted a (re)subscription; `lastSeq` is its last stored seq at that moment */
  onSubscribed?(lastSeq: number): void;
}

// Server → client messages other than wire events, validated at the boundary like the events.
const ControlMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("subscribed"), executionId: z.string(), lastSeq: z.number() }),
  z.object({ type: z.literal("executions"), executions: z.array(z.looseObject({ id: z.string(), status: z.string() })) }),
  z.object({ type: z.literal("error"), code: z.string(), message: z.string(), executionId: z.string().optional() }),
  z.object({ type: z.literal("pong") }),
]);

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10_000;
/** A ping goes out this often; a socket silent for a whole interval after one is dead. */
const HEARTBEAT_MS = 15_000;

export class Connection {
  #status = $state<ConnectionStatus>("connecting");
  #executions = $state.raw<ExecutionListItem[] | null>(null);
  #running = $derived(this.#executions?.filter((e) => e.status === "running" || e.status === "queued") ?? null);
  #socket: WebSocket | null = null;
  readonly #subs = new Map<string, Set<ExecutionSubscriber>>();
  readonly #openListeners = new Set<() => void>();
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #awaitingPong = false;
  #started = false;
  readonly #url: () => string;

  constructor(url: () => string = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`) {
    this.#url = url;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }
  /** every execution the server lists (newest first), or null until the first list arrives */
  get executions(): ExecutionListItem[] | null {
    return this.#executions;
  }
  /** running and queued executions, or null until the first list arrives */
  get running(): ExecutionListItem[] | null {
    return this.#running;
  }

  /** Opens the socket and listens for the browser's resync signals; idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    document.addEventListener("visibilitychange", this.#onVisible);
    window.addEventListener("online", this.#resync);
    this.#open();
  }

  /** Follows one execution from `subscriber.since()`; returns the unsubscribe function. */
  subscribe(executionId: string, subscriber: ExecutionSubscriber): () => void {
    this.start();
    let set = this.#subs.get(executionId);
    if (!set) this.#subs.set(executionId, (set = new Set()));
    set.add(subscriber);
    // From the furthest-behind subscriber, as on reconnect: a later one's since must not skip events
    // an earlier one has not received yet (the server restarts the subscription from this since).
    this.#sendSubscribe(executionId, minSince(set));
    return () => {
      const current = this.#subs.get(executionId);
      if (!current?.delete(subscriber)) return;
      if (current.size === 0) {
        this.#subs.delete(executionId);
        this.#send({ type: "unsubscribe", executionId });
      }
    };
  }

  /** Calls `fn` each time the socket opens (the server is reachable again); returns the remover. */
  onOpen(fn: () => void): () => void {
    this.#openListeners.add(fn);
    return () => this.#openListeners.delete(fn);
  }

  /** Asks the server to replay everything after `since` (after a gap or a slow-consumer cut). */
  resubscribe(executionId: string, since: number): void {
    this.#sendSubscribe(executionId, since);
  }

  stop(): void {
    this.#started = false;
    document.removeEventListener("visibilitychange", this.#onVisible);
    window.removeEventListener("online", this.#resync);
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeat);
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
  }

  #sendSubscribe(executionId: string, since: number): void {
    this.#send({ type: "subscribe", executionId, ...(since > 0 ? { since } : {}) });
  }

  #send(msg: ClientMessage): void {
    // While closed nothing is lost: on open every subscription is sent again from its own last seq.
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(msg));
  }

  #open(): void {
    clearTimeout(this.#retryTimer);
    const socket = new WebSocket(this.#url());
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      this.#attempt = 0;
      this.#status = "open";
      this.#send({ type: "watch-executions" });
      for (const [id, set] of this.#subs) this.#sendSubscribe(id, minSince(set));
      this.#startHeartbeat();
      for (const fn of [...this.#openListeners]) fn();
    };
    socket.onmessage = (ev) => {
      if (this.#socket !== socket) return;
      this.#awaitingPong = false;
      this.#onMessage(ev.data);
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      clearInterval(this.#heartbeat);
      if (this.#started) this.#scheduleReconnect();
    };
    // An error is always followed by close, which reconnects; nothing to add here.
    socket.onerror = () => {};
  }

  #scheduleReconnect(): void {
    this.#status = "reconnecting";
    // Full jitter: many tabs reconnecting after a server restart do not arrive in lockstep.
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
    this.#attempt++;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #startHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#awaitingPong = false;
    this.#heartbeat = setInterval(() => {
      if (this.#awaitingPong) {
        // Nothing at all since the last ping: the socket is dead even if the browser has not noticed.
        this.#drop();
        return;
      }
      this.#awaitingPong = true;
      this.#send({ type: "ping" });
    }, HEARTBEAT_MS);
  }

  /** Abandons the current socket and reconnects at once. */
  #drop(): void {
    const socket = this.#socket;
    this.#socket = null;
    clearInterval(this.#heartbeat);
    socket?.close();
    this.#attempt = 0;
    this.#status = "reconnecting";
    this.#open();
  }

  readonly #onVisible = () => {
    if (document.visibilityState === "visible") this.#resync();
  };

  /** The tab came back or the network returned: reconnect now if closed, else catch every subscription up. */
  readonly #resync = () => {
    if (!this.#started) return;
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) {
      this.#attempt = 0;
      this.#open();
      return;
    }
    if (socket.readyState !== WebSocket.OPEN) return;
    for (const [id, set] of this.#subs) this.#sendSubscribe(id, minSince(set));
    this.#send({ type: "watch-executions" });
    // A socket that died while the tab slept answers nothing; the heartbeat notices within one interval.
    this.#awaitingPong = true;
    this.#send({ type: "ping" });
  };

  #onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      console.warn("stagecast: ignored a WebSocket message that is not JSON");
      return;
    }
    if (typeof (raw as { seq?: unknown } | null)?.seq === "number") {
      const parsed = WireEventSchema.safeParse(raw);
      if (!parsed.success) {
        console.warn(`stagecast: ignored an invalid event: ${parsed.error.issues[0]?.message ?? "invalid"}`);
        return;
      }
      const set = this.#subs.get(parsed.data.executionId);
      if (set) for (const s of set) s.onEvent(parsed.data);
      return;
    }
    const parsed = ControlMessageSchema.safeParse(raw);
    if (!parsed.success) return; // a message type this client does not know yet: the protocol may grow
    const msg = parsed.data;
    if (msg.type === "executions") {
      this.#executions = msg.executions as unknown as ExecutionListItem[];
    } else if (msg.type === "subscribed") {
      const set = this.#subs.get(msg.executionId);
      if (set) for (const s of set) s.onSubscribed?.(msg.lastSeq);
    } else if (msg.type === "error" && msg.executionId) {
      const set = this.#subs.get(msg.executionId);
      if (!set) return;
      if (msg.code === "slow_consumer") this.#sendSubscribe(msg.executionId, minSince(set));
      else for (const s of set) s.onError?.(msg.code as WsErrorCode, msg.message);
    }
  }
}

function minSince(set: Set<ExecutionSubscriber>): number {
  let since = Number.POSITIVE_INFINITY;
  for (const s of set) since = Math.min(since, s.since());
  return Number.isFinite(since) ? since : 0;
}

/** The app's one connection. */
export const connection = new Connection();
