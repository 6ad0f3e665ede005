// The durable record of every execution: its row, its stages and every wire event, in SQLite (WAL).
// It is the source of replay, of snapshots and of full outputs. Events are appended to a pending
// batch and written in one transaction per flush; the manager publishes an event only after the
// flush that stored it, so whatever a viewer has seen survives a kill -9.
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ExecutionStatus, StageRef, StageResult, StageStatus, Usage, WireEvent } from "../protocol/events.ts";
import { type OutputTail, OUTPUT_TAIL_BUDGET, tailFromNewestFirst } from "./output-tail.ts";

export interface ExecutionRow {
  id: string;
  pipeline_id: string;
  pipeline_name: string;
  status: ExecutionStatus;
  input: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  last_seq: number;
  error: string | null;
  result_path: string | null;
}

export interface StageRow {
  stage_id: string;
  idx: number;
  name: string;
  type: string;
  status: StageStatus;
  started_at: number | null;
  ended_at: number | null;
  cost: number | null;
  usage: string | null;
  error: string | null;
  reason: string | null;
  output_length: number;
  /** from the `execution:started` event's stage refs; null before it or when it carried none */
  provider: string | null;
  model: string | null;
  /** the `stage:completed` event's result as JSON; null until then (and in rows stored before the column existed) */
  result: string | null;
}

export interface ExecutionQuery {
  status?: ExecutionStatus;
  pipelineId?: string;
  limit: number;
  /** rows to skip, newest first (paging) */
  offset?: number;
}

export interface StoredEvent {
  seq: number;
  body: string;
}

export interface FlushedEvent {
  event: WireEvent;
  json: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, pipeline_name TEXT NOT NULL, status TEXT NOT NULL,
  input TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER,
  last_seq INTEGER NOT NULL DEFAULT 0, error TEXT, result_path TEXT);
CREATE INDEX IF NOT EXISTS executions_by_created ON executions (created_at DESC);
CREATE INDEX IF NOT EXISTS executions_by_pipeline ON executions (pipeline_id, created_at DESC);
CREATE TABLE IF NOT EXISTS stages (
  execution_id TEXT NOT NULL, stage_id TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', started_at INTEGER, ended_at INTEGER,
  cost REAL, usage TEXT, error TEXT, reason TEXT, output_length INTEGER NOT NULL DEFAULT 0,
  provider TEXT, model TEXT, result TEXT,
  PRIMARY KEY (execution_id, stage_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  execution_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, stage_id TEXT,
  chunk_offset INTEGER, body TEXT NOT NULL, PRIMARY KEY (execution_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_output ON events (execution_id, stage_id, seq) WHERE type = 'stage:output';
`;

const FINAL_STATUS: Partial<Record<WireEvent["type"], true>> = {
  "execution:completed": true,
  "execution:cancelled": true,
  "execution:failed": true,
};

export class EventLog {
  readonly #db: Database;
  readonly #pending: FlushedEvent[] = [];
  readonly #insertEvent: Statement;
  readonly #setLastSeq: Statement;
  readonly #stageUpdate: Record<string, Statement>;
  /** executions marked `interrupted` when this log was opened (left running by a crash) */
  readonly interruptedOnOpen: string[];

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.#db = new Database(join(dataDir, "stagecast.db"), { create: true, strict: true });
    this.#db.run("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode: a commit survives a process crash (kill -9); only power loss may lose the last ones.
    this.#db.run("PRAGMA synchronous = NORMAL");
    this.#db.run("PRAGMA busy_timeout = 5000");
    this.#db.exec(SCHEMA);
    this.#addStageColumns();
    this.interruptedOnOpen = this.#markInterrupted();
    this.#insertEvent = this.#db.prepare(
      "INSERT OR IGNORE INTO events (execution_id, seq, type, stage_id, chunk_offset, body) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#setLastSeq = this.#db.prepare("UPDATE executions SET last_seq = MAX(last_seq, ?) WHERE id = ?");
    const stage = (set: string) => this.#db.prepare(`UPDATE stages SET ${set} WHERE execution_id = ? AND stage_id = ?`);
    this.#stageUpdate = {
      started: stage("status = 'running', started_at = ?, ended_at = NULL, output_length = 0"),
      output: stage("output_length = ?"),
      retrying: stage("output_length = 0"),
      completed: stage("status = 'completed', ended_at = ?, cost = ?, usage = ?, result = ?"),
      skipped: stage("status = 'skipped', ended_at = ?, reason = ?"),
      failed: stage("status = 'failed', ended_at = ?, error = ?"),
    };
  }

  /** A database made before stages carried provider, model and result gains those columns (additive). */
  #addStageColumns(): void {
    const columns = new Set(this.#db.query<{ name: string }, []>("PRAGMA table_info(stages)").all().map((c) => c.name));
    for (const col of ["provider", "model", "result"]) {
      if (!columns.has(col)) this.#db.run(`ALTER TABLE stages ADD COLUMN ${col} TEXT`);
    }
  }

  #markInterrupted(): string[] {
    const rows = this.#db
      .query<{ id: string }, []>("SELECT id FROM executions WHERE status IN ('running', 'queued')")
      .all();
    const now = Date.now();
    this.#db.transaction(() => {
      for (const { id } of rows) {
        this.#db.run(
          "UPDATE executions SET status = 'interrupted', ended_at = ?, error = 'the server stopped while this execution was running' WHERE id = ?",
          [now, id],
        );
        this.#db.run(
          "UPDATE stages SET status = 'cancelled', ended_at = ?, error = 'interrupted' WHERE execution_id = ? AND status IN ('running', 'pending')",
          [now, id],
        );
      }
    })();
    return rows.map((r) => r.id);
  }

  createExecution(e: { id: string; pipelineId: string; pipelineName: string; input: string; createdAt: number; stages: StageRef[] }): void {
    this.#db.transaction(() => {
      this.#db.run(
        "INSERT INTO executions (id, pipeline_id, pipeline_name, status, input, created_at) VALUES (?, ?, ?, 'queued', ?, ?)",
        [e.id, e.pipelineId, e.pipelineName, e.input, e.createdAt],
      );
      e.stages.forEach((s, idx) => {
        this.#db.run("INSERT INTO stages (execution_id, stage_id, idx, name, type) VALUES (?, ?, ?, ?, ?)", [e.id, s.id, idx, s.name, s.type]);
      });
    })();
  }

  /** An end no wire event carried (the executor threw, or returned without its final event). */
  setStatus(id: string, status: Exclude<ExecutionStatus, "queued" | "running">, at: number, error?: string): void {
    this.#db.run("UPDATE executions SET status = ?, ended_at = COALESCE(ended_at, ?), error = COALESCE(?, error) WHERE id = ?", [
      status,
      at,
      error ?? null,
      id,
    ]);
  }

  setResultPath(id: string, path: string): void {
    this.#db.run("UPDATE executions SET result_path = ? WHERE id = ?", [path, id]);
  }

  append(event: WireEvent, json: string): void {
    this.#pending.push({ event, json });
  }

  /** Writes every pending event in one transaction and returns them, in order. */
  flush(): FlushedEvent[] {
    if (this.#pending.length === 0) return [];
    const batch = this.#pending.splice(0);
    // last_seq once per execution per batch, not once per chunk: a batch holds one turn's events.
    const lastSeq = new Map<string, number>();
    this.#db.transaction(() => {
      for (const { event, json } of batch) {
        this.#store(event, json);
        lastSeq.set(event.executionId, Math.max(lastSeq.get(event.executionId) ?? 0, event.seq));
      }
      for (const [id, seq] of lastSeq) this.#setLastSeq.run(seq, id);
    })();
    return batch;
  }

  #store(e: WireEvent, json: string): void {
    const stageId = e.type === "stage:output" || e.type === "stage:retrying" ? e.stageId : "stage" in e ? e.stage.id : null;
    this.#insertEvent.run(e.executionId, e.seq, e.type, stageId, e.type === "stage:output" ? e.offset : null, json);
    const u = this.#stageUpdate;
    switch (e.type) {
      case "execution:started":
        this.#db.run("UPDATE executions SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?", [e.ts, e.executionId]);
        // The executor's resolved stages are authoritative (names and types after defaults).
        e.stages.forEach((s, idx) => {
          this.#db.run(
            "INSERT INTO stages (execution_id, stage_id, idx, name, type, provider, model) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET idx = excluded.idx, name = excluded.name, type = excluded.type, provider = excluded.provider, model = excluded.model",
            [e.executionId, s.id, idx, s.name, s.type, s.provider ?? null, s.model ?? null],
          );
        });
        break;
      case "stage:started":
        u.started!.run(e.ts, e.executionId, e.stage.id);
        break;
      case "stage:output":
        u.output!.run(e.offset + e.output.length, e.executionId, e.stageId);
        break;
      case "stage:retrying":
        u.retrying!.run(e.executionId, e.stageId);
        break;
      case "stage:completed":
        u.completed!.run(e.ts, e.result.cost, JSON.stringify(e.result.usage), JSON.stringify(e.result), e.executionId, e.stage.id);
        break;
      case "stage:skipped":
        u.skipped!.run(e.ts, e.reason, e.executionId, e.stage.id);
        break;
      case "stage:failed":
        u.failed!.run(e.ts, e.error, e.executionId, e.stage.id);
        break;
      default:
        if (FINAL_STATUS[e.type]) this.#finish(e);
    }
  }

  #finish(e: WireEvent): void {
    const status = e.type === "execution:completed" ? e.result.status : e.type === "execution:cancelled" ? "cancelled" : "failed";
    const error = e.type === "execution:cancelled" ? e.reason : e.type === "execution:failed" ? e.error : null;
    this.#db.run("UPDATE executions SET status = ?, ended_at = ?, error = ? WHERE id = ?", [status, e.ts, error, e.executionId]);
    // Nothing follows a final event, so no stage is left running or pending (as the reducer has it):
    // a crash fails the running stage, and stages that never started are cancelled.
    if (status === "cancelled") {
      this.#db.run("UPDATE stages SET status = 'cancelled', ended_at = ? WHERE execution_id = ? AND status IN ('running', 'pending')", [
        e.ts,
        e.executionId,
      ]);
    } else if (e.type === "execution:failed") {
      this.#db.run("UPDATE stages SET status = 'failed', ended_at = ?, error = ? WHERE execution_id = ? AND status = 'running'", [
        e.ts,
        error,
        e.executionId,
      ]);
      this.#db.run("UPDATE stages SET status = 'cancelled', ended_at = ? WHERE execution_id = ? AND status = 'pending'", [e.ts, e.executionId]);
    }
  }

  getExecution(id: string): ExecutionRow | null {
    return this.#db.query<ExecutionRow, [string]>("SELECT * FROM executions WHERE id = ?").get(id);
  }

  listExecutions(opts: ExecutionQuery): ExecutionRow[] {
    const { where, params } = executionFilter(opts);
    return this.#db
      .query<ExecutionRow, (string | number)[]>(`SELECT * FROM executions${where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
      .all(...params, opts.limit, opts.offset ?? 0);
  }

  /** How many executions match, ignoring limit and offset. */
  countExecutions(opts: Omit<ExecutionQuery, "limit" | "offset">): number {
    const { where, params } = executionFilter(opts);
    return this.#db.query<{ n: number }, (string | number)[]>(`SELECT COUNT(*) AS n FROM executions${where}`).get(...params)?.n ?? 0;
  }

  getStages(executionId: string): StageRow[] {
    return this.#db
      .query<StageRow, [string]>(
        "SELECT stage_id, idx, name, type, status, started_at, ended_at, cost, usage, error, reason, output_length, provider, model, result FROM stages WHERE execution_id = ? ORDER BY idx",
      )
      .all(executionId);
  }

  hasStage(executionId: string, stageId: string): boolean {
    return this.#db.query("SELECT 1 FROM stages WHERE execution_id = ? AND stage_id = ?").get(executionId, stageId) !== null;
  }

  /** Stored events with seq > since, in order (committed ones only). */
  readEvents(executionId: string, since: number, limit: number): StoredEvent[] {
    return this.#db
      .query<StoredEvent, [string, number, number]>(
        "SELECT seq, body FROM events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
      )
      .all(executionId, since, limit);
  }

  /** The stage's full output (its last attempt), chunk by chunk, read in pages. */
  *stageOutput(executionId: string, stageId: string, pageSize = 512): Generator<string> {
    // A retry starts its chunks over at offset 0: the last offset-0 chunk opens the attempt that counts.
    const start = this.#db
      .query<{ seq: number | null }, [string, string]>(
        "SELECT MAX(seq) AS seq FROM events WHERE execution_id = ? AND stage_id = ? AND type = 'stage:output' AND chunk_offset = 0",
      )
      .get(executionId, stageId)?.seq;
    if (start == null) return;
    const retried = this.#db
      .query<{ seq: number | null }, [string, string]>(
        "SELECT MAX(seq) AS seq FROM events WHERE execution_id = ? AND stage_id = ? AND type = 'stage:retrying'",
      )
      .get(executionId, stageId)?.seq;
    if (retried != null && retried > start) return; // retrying, and the new attempt has produced nothing yet
    const page = this.#db.query<{ seq: number; body: string }, [string, string, number, number]>(
      "SELECT seq, body FROM events WHERE execution_id = ? AND stage_id = ? AND type = 'stage:output' AND seq >= ? ORDER BY seq LIMIT ?",
    );
    let from = start;
    for (;;) {
      const rows = page.all(executionId, stageId, from, pageSize);
      for (const row of rows) yield (JSON.parse(row.body) as { output: string }).output;
      if (rows.length < pageSize) return;
      from = (rows[rows.length - 1] as { seq: number }).seq + 1;
    }
  }

  /** Rebuilds the held tail of an execution that is not in memory, reading the log backwards only as far as needed. */
  tailFromLog(executionId: string, budget = OUTPUT_TAIL_BUDGET): OutputTail {
    const rows = this.#db
      .query<{ type: string; stage_id: string; body: string }, [string]>(
        "SELECT type, stage_id, body FROM events WHERE execution_id = ? AND type IN ('stage:output', 'stage:retrying') ORDER BY seq DESC",
      )
      .iterate(executionId);
    return tailFromNewestFirst(
      (function* () {
        for (const row of rows) {
          if (row.type === "stage:retrying") yield { stageId: row.stage_id, retry: true as const };
          else yield { stageId: row.stage_id, ...(JSON.parse(row.body) as { output: string; offset: number }) };
        }
      })(),
      budget,
    );
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}

function executionFilter(opts: { status?: ExecutionStatus; pipelineId?: string }): { where: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  if (opts.status) {
    clauses.push("status = ?");
    params.push(opts.status);
  }
  if (opts.pipelineId) {
    clauses.push("pipeline_id = ?");
    params.push(opts.pipelineId);
  }
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", params };
}

export function parseUsage(json: string | null): Usage | null {
  return json === null ? null : (JSON.parse(json) as Usage);
}

/** The stored result was written by us from a validated event: no schema check on the way back. */
export function parseStageResult(json: string | null): StageResult | null {
  return json === null ? null : (JSON.parse(json) as StageResult);
}
