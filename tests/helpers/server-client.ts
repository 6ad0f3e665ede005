// Talking to a stagecast process from tests and benchmarks: its printed lines, and starting a run.

/** The first line a child process prints (its URL, as JSON), leaving the rest of the stream unread. */
export async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the child exited before printing its first line; it printed: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n"));
}

/** A child's output, line by line, as it arrives. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

/** POST /api/pipelines/:id/run through `api` (which adds the base URL and any auth); the execution id. */
export async function startRun(
  api: (path: string, init: RequestInit) => Promise<Response>,
  pipelineId: string,
  input: string,
): Promise<string> {
  const res = await api(`/api/pipelines/${pipelineId}/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input }),
  });
  if (res.status !== 202) throw new Error(`run ${pipelineId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { executionId: string }).executionId;
}
