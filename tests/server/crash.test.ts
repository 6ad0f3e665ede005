// An execution whose engine fails outside the contract (the executor cannot even be built) still
// ends with a final event: viewers never wait forever, the snapshot says why, no key leaks.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isFinal, setup, type Harness } from "./harness.ts";

const KEY = "sk-crash-test-0123456789";
let h: Harness;
let saved: string | undefined;
beforeAll(async () => {
  saved = process.env.OPENAI_API_KEY;
  process.env.OPENAI_API_KEY = KEY;
  h = await setup({
    createExecutor: () => {
      throw new Error(`engine could not start (key ${KEY})`);
    },
  });
});
afterAll(async () => {
  await h.close();
  if (saved === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = saved;
});

test("an executor that throws ends the run with execution:failed, for live viewers and the snapshot", async () => {
  const viewer = await h.ws();
  viewer.send({ type: "watch-executions" });
  const id = await h.run("one", `input quoting ${KEY}`);
  viewer.send({ type: "subscribe", executionId: id, since: 0 });
  const final = await viewer.waitFor(isFinal(id));
  const masked = "*".repeat(KEY.length);
  expect(final).toMatchObject({ type: "execution:failed", executionId: id, error: `engine could not start (key ${masked})` });
  const snap = (await (await h.api(`/api/executions/${id}`)).json()) as Record<string, unknown>;
  expect(snap).toMatchObject({ status: "failed", error: `engine could not start (key ${masked})`, input: `input quoting ${masked}` });
  expect(snap.lastSeq).toBe((final as { seq: number }).seq);
  expect(JSON.stringify(snap).includes(KEY)).toBe(false);
});
