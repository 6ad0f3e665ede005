// WebSocket clients of the benchmarks. A Viewer follows one execution the way the dashboard does
// (subscribe from 0, resubscribe from its last seq when told it fell behind) and checks every event
// as it arrives: seq contiguous, chunk offsets contiguous. A Watcher follows the execution list, so
// a benchmark learns that a run ended without polling.
import type { ExecutionListItem } from "../../src/protocol/server-api.ts";
import { nowMs } from "./proc.ts";

const FINAL_EVENTS = new Set(["execution:completed", "execution:cancelled", "execution:failed"]);
const FINAL_STATUSES = new Set(["success", "early_exit", "failed", "cancelled", "interrupted"]);

function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => resolve(socket), { once: true });
    socket.addEventListener("error", () => reject(new Error(`could not open ${url}`)), { once: true });
  });
}

export interface ViewerOptions {
  /** called with the receive time and the stage's output length so far, after each output chunk */
  onOutput?: (at: number, stageId: string, length: number) => void;
}

export class Viewer {
  readonly executionId: string;
  readonly #socket: WebSocket;
  /** events received in seq order, counted once each */
  received = 0;
  lastSeq = 0;
  /** an event whose seq was not lastSeq + 1 (a duplicate or a gap) */
  outOfOrder = 0;
  /** a chunk whose offset was not the stage's length so far */
  offsetErrors = 0;
  slowConsumer = 0;
  errors: string[] = [];
  finalSeq: number | undefined;
  finalType: string | undefined;
  readonly lengths = new Map<string, number>();
  readonly done: Promise<void>;

  private constructor(socket: WebSocket, executionId: string, opts: ViewerOptions) {
    this.#socket = socket;
    this.executionId = executionId;
    let finish = () => {};
    this.done = new Promise((r) => (finish = r));
    socket.addEventListener("message", (ev) => {
      const at = nowMs();
      const msg = JSON.parse(String(ev.data)) as Record<string, unknown>;
      if (msg.type === "error") {
        if (msg.code === "slow_consumer") {
          this.slowConsumer++;
          this.#subscribe(this.lastSeq);
        } else this.errors.push(`${msg.code}: ${msg.message}`);
        return;
      }
      if (typeof msg.seq !== "number" || msg.executionId !== executionId) return;
      if (msg.seq !== this.lastSeq + 1) {
        this.outOfOrder++;
        if (msg.seq <= this.lastSeq) return;
      }
      this.lastSeq = msg.seq;
      this.received++;
      if (msg.type === "stage:retrying") this.lengths.set(msg.stageId as string, 0);
      if (msg.type === "stage:output") {
        const stageId = msg.stageId as string;
        const length = this.lengths.get(stageId) ?? 0;
        if (msg.offset !== length) this.offsetErrors++;
        const next = (msg.offset as number) + (msg.output as string).length;
        this.lengths.set(stageId, next);
        opts.onOutput?.(at, stageId, next);
      }
      if (FINAL_EVENTS.has(msg.type as string)) {
        this.finalSeq = msg.seq;
        this.finalType = msg.type as string;
        finish();
      }
    });
  }

  static async open(wsUrl: string, executionId: string, opts: ViewerOptions = {}): Promise<Viewer> {
    const viewer = new Viewer(await open(wsUrl), executionId, opts);
    viewer.#subscribe(0);
    return viewer;
  }

  #subscribe(since: number): void {
    this.#socket.send(JSON.stringify({ type: "subscribe", executionId: this.executionId, since }));
  }

  /** events the viewer should have had but never got */
  get lost(): number {
    return this.finalSeq === undefined ? Number.NaN : this.finalSeq - this.received;
  }

  close(): void {
    this.#socket.close();
  }
}

export class Watcher {
  readonly #socket: WebSocket;
  readonly #waiters = new Map<string, ((item: ExecutionListItem) => void)[]>();
  readonly #ended = new Map<string, ExecutionListItem>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as { type: string; executions?: ExecutionListItem[] };
      if (msg.type !== "executions" || !msg.executions) return;
      for (const item of msg.executions) {
        if (!FINAL_STATUSES.has(item.status) || this.#ended.has(item.id)) continue;
        this.#ended.set(item.id, item);
        for (const resolve of this.#waiters.get(item.id) ?? []) resolve(item);
        this.#waiters.delete(item.id);
      }
    });
  }

  static async open(wsUrl: string): Promise<Watcher> {
    const socket = await open(wsUrl);
    const watcher = new Watcher(socket);
    socket.send(JSON.stringify({ type: "watch-executions" }));
    return watcher;
  }

  /** Resolves with the execution's list entry once it has ended. */
  ended(id: string): Promise<ExecutionListItem> {
    const known = this.#ended.get(id);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
    });
  }

  /** Forget ended executions (long benchmarks). */
  forget(id: string): void {
    this.#ended.delete(id);
  }

  close(): void {
    this.#socket.close();
  }
}
