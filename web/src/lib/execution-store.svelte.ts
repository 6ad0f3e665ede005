// One viewed execution: the REST snapshot first (fromSnapshot), then the WebSocket from its lastSeq,
// every event through the shared reducer. Events are collected and applied once per animation
// frame (one reduceAll, one assignment), so a fast stream costs one render per frame, not per chunk.
import type { WireEvent } from "@protocol/events.ts";
import { type ExecutionState, fromSnapshot, isFinalStatus, reduceAll } from "@protocol/reducer.ts";
import { ApiError, api, describeError } from "./api.ts";
import { type Connection, connection as sharedConnection } from "./connection.svelte.ts";

export class ExecutionStore {
  readonly id: string;
  readonly #connection: Connection;
  #state = $state.raw<ExecutionState | null>(null);
  #error = $state.raw<{ code: string; message: string } | null>(null);
  #cancelling = $state(false);
  /** events received but not yet reduced */
  #pending: WireEvent[] = [];
  /** the last seq received (reduced or pending): where a resubscription resumes */
  #received = 0;
  #scheduled: (() => void) | null = null;
  #unsubscribe: (() => void) | null = null;
  #resyncing = false;
  #stopWaiting: (() => void) | null = null;
  #disposed = false;

  constructor(id: string, connection: Connection = sharedConnection) {
    this.id = id;
    this.#connection = connection;
    void this.#load();
  }

  /** null until the snapshot has loaded */
  get state(): ExecutionState | null {
    return this.#state;
  }
  get connection(): Connection {
    return this.#connection;
  }
  /** why the execution could not be shown (unknown id, server unreachable…) */
  get error(): { code: string; message: string } | null {
    return this.#error;
  }
  get cancelling(): boolean {
    return this.#cancelling;
  }

  outputUrl(stageId: string): string {
    return api.outputUrl(this.id, stageId);
  }

  async cancel(): Promise<void> {
    if (this.#cancelling || !this.#state || isFinalStatus(this.#state.status)) return;
    this.#cancelling = true;
    try {
      await api.cancel(this.id);
    } catch (err) {
      // 409: it ended on its own meanwhile; its final event is on the way.
      if (!(err instanceof ApiError && err.code === "not_running")) this.#error = describeError(err);
    } finally {
      this.#cancelling = false;
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#stopWaiting?.();
    this.#cancelScheduled();
    this.#pending = [];
  }

  async #load(): Promise<void> {
    try {
      const snapshot = await api.snapshot(this.id);
      if (this.#disposed) return;
      this.#state = fromSnapshot(snapshot);
      this.#received = snapshot.lastSeq;
      this.#error = null;
    } catch (err) {
      if (this.#disposed) return;
      this.#error = describeError(err);
      // The server was unreachable (a reload during a restart): try again as soon as the socket reopens.
      if (err instanceof ApiError && err.code === "network" && !this.#stopWaiting) {
        this.#stopWaiting = this.#connection.onOpen(() => {
          this.#stopWaiting?.();
          this.#stopWaiting = null;
          void this.#load();
        });
      }
      return;
    }
    this.#unsubscribe = this.#connection.subscribe(this.id, {
      since: () => this.#received,
      onEvent: (event) => this.#onEvent(event),
      onError: (code, message) => {
        if (code === "execution_not_found") this.#error = { code, message };
      },
      onSubscribed: (lastSeq) => this.#onSubscribed(lastSeq),
    });
  }

  /**
   * A run left running by a server that stopped is marked `interrupted` on restart without any event,
   * so a resubscription with nothing new to replay cannot tell. Ask the snapshot when that may be so.
   */
  #onSubscribed(lastSeq: number): void {
    const state = this.#state;
    if (!state || isFinalStatus(state.status) || lastSeq > this.#received) return;
    api.snapshot(this.id).then(
      (snapshot) => {
        const current = this.#state;
        if (this.#disposed || !current || isFinalStatus(current.status)) return;
        if (isFinalStatus(snapshot.status) && snapshot.lastSeq === current.lastSeq) this.#state = fromSnapshot(snapshot);
      },
      () => {}, // the connection banner already says the server is unreachable
    );
  }

  #onEvent(event: WireEvent): void {
    if (this.#disposed) return;
    this.#pending.push(event);
    if (event.seq > this.#received) this.#received = event.seq;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    // A hidden tab gets no animation frames; a timer keeps it current at a lower rate.
    if (document.visibilityState === "hidden") {
      const t = setTimeout(() => this.#flush(), 250);
      this.#scheduled = () => clearTimeout(t);
    } else {
      const f = requestAnimationFrame(() => this.#flush());
      this.#scheduled = () => cancelAnimationFrame(f);
    }
  }

  #cancelScheduled(): void {
    this.#scheduled?.();
    this.#scheduled = null;
  }

  #flush(): void {
    this.#scheduled = null;
    const current = this.#state;
    if (this.#disposed || !current || this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    const next = reduceAll(current, events);
    if (next !== current) this.#state = next;
    if (next.gap) void this.#resync();
  }

  /** The state skipped past a seq: start again from a fresh snapshot and resume after it. */
  async #resync(): Promise<void> {
    if (this.#resyncing) return;
    this.#resyncing = true;
    try {
      const snapshot = await api.snapshot(this.id);
      if (this.#disposed) return;
      // Events that arrived during the fetch and are newer than the snapshot still apply on top.
      const later = this.#pending.filter((e) => e.seq > snapshot.lastSeq);
      this.#pending = [];
      this.#cancelScheduled();
      const state = reduceAll(fromSnapshot(snapshot), later);
      this.#state = state;
      this.#received = state.lastSeq;
      this.#connection.resubscribe(this.id, state.lastSeq);
    } catch (err) {
      if (!this.#disposed) this.#error = describeError(err);
    } finally {
      this.#resyncing = false;
    }
  }
}
