// A WebSocket viewer that stops reading: it subscribes, prints "ready", then blocks its event loop on
// a synchronous stdin read, so the server's buffer for it fills as a real stalled browser's would.
// When the parent writes a line it wakes up, reads what had piled up, resubscribes from its last
// seq if it was told it fell behind, and prints one JSON line: {events, errors}.
// Usage: bun tests/helpers/blocking-ws-client.ts <wsUrl> <executionId>
import { readSync, writeSync } from "node:fs";

const [url, executionId] = process.argv.slice(2) as [string, string];
const events: { seq: number; type: string; [k: string]: unknown }[] = [];
const errors: { code: string; message: string }[] = [];
const ws = new WebSocket(url);
let blocked = false;

ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "subscribe", executionId })));
ws.addEventListener("message", (ev) => {
  const msg = JSON.parse(String(ev.data));
  if (msg.type === "subscribed" && !blocked) {
    blocked = true;
    writeSync(1, "ready\n");
    readSync(0, Buffer.alloc(1)); // the event loop stops here until the parent says go
    return;
  }
  if (msg.type === "error") {
    errors.push(msg);
    if (msg.code === "slow_consumer") {
      const since = events.at(-1)?.seq ?? 0;
      ws.send(JSON.stringify({ type: "subscribe", executionId, since }));
    }
    return;
  }
  if (typeof msg.seq !== "number") return;
  events.push(msg);
  if (msg.type === "execution:completed" || msg.type === "execution:cancelled" || msg.type === "execution:failed") {
    writeSync(1, `${JSON.stringify({ events, errors })}\n`);
    ws.close();
  }
});
