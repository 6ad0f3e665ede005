// The real demo model (SmolLM2-135M, in-process) through the whole engine: no fake anywhere.
import { expect, test } from "bun:test";
import { PipelineExecutor } from "../../src/core/executor.ts";
import { resolveProvider } from "../../src/providers/registry.ts";
import type { Provider } from "../../src/providers/types.ts";
import type { WireEvent } from "../../src/protocol/events.ts";

test("a two-stage local pipeline streams ≥10 deltas and completes", async () => {
  let deltas = 0;
  const counting = async (model: Parameters<typeof resolveProvider>[0]): Promise<Provider> => {
    const real = await resolveProvider(model);
    return {
      id: real.id,
      async *stream(request, options) {
        for await (const d of real.stream(request, options)) {
          if (d.type === "text") deltas++;
          yield d;
        }
      },
    };
  };
  const events: WireEvent[] = [];
  const executor = new PipelineExecutor(
    {
      id: "local-smoke",
      name: "Local smoke",
      defaults: { model: { provider: "local", maxTokens: 40, temperature: 0 } },
      stages: [
        { id: "facts", prompt: "List three facts about {{input}}." },
        { id: "summary", prompt: "Summarize in one sentence:\n{{stages.facts.output}}" },
      ],
    },
    { input: "the moon", resolveProvider: counting, callbacks: { onEvent: (e) => events.push(e) } },
  );
  const outcome = await executor.run();
  expect(outcome.status).toBe("success");
  expect(deltas).toBeGreaterThanOrEqual(10);
  for (const id of ["facts", "summary"]) {
    const stage = outcome.stages[id];
    if (stage?.status !== "completed") throw new Error(`stage ${id} did not complete: ${JSON.stringify(stage)}`);
    const streamed = events
      .filter((e) => e.type === "stage:output" && e.stageId === id)
      .map((e) => (e as { output: string }).output)
      .join("");
    expect(streamed).toBe(stage.output);
    expect(stage.output.length).toBeGreaterThan(0);
    expect(stage.result.usage.outputTokens).toBeGreaterThan(0);
    expect(stage.result.provider).toBe("local");
  }
  expect(events.filter((e) => e.type === "stage:output").length).toBeGreaterThanOrEqual(4);
});
