import { describe, expect, test } from "bun:test";
import { AnsiDetector, defaultView } from "../../web/components/execution/stage-view-choice.ts";

describe("defaultView", () => {
  test("terminal for agent CLIs or text with escapes, rendered Markdown otherwise", () => {
    expect(defaultView("cli", false)).toBe("terminal");
    expect(defaultView("anthropic", true)).toBe("terminal");
    expect(defaultView("anthropic", false)).toBe("rendered");
    expect(defaultView("local", false)).toBe("rendered");
    expect(defaultView(undefined, false)).toBe("rendered");
  });
});

describe("AnsiDetector", () => {
  test("finds an escape arriving in a later chunk, scanning only the new text", () => {
    const d = new AnsiDetector();
    expect(d.seen("plain")).toBe(false);
    expect(d.seen("plain text")).toBe(false);
    expect(d.seen("plain text \x1b[31mred")).toBe(true);
    expect(d.seen("anything")).toBe(true);
  });
  test("a shorter text (a retry) is scanned from the start", () => {
    const d = new AnsiDetector();
    expect(d.seen("long plain text")).toBe(false);
    expect(d.seen("\x1b[1m")).toBe(true);
  });
});
