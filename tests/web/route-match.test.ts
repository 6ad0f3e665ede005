// The dashboard's URL → page table: the stable /executions/<id> URL and every page a reload can land on.
import { describe, expect, test } from "bun:test";
import { matchRoute } from "../../web/src/lib/route-match.ts";

describe("matchRoute", () => {
  test("each page's URL", () => {
    const cases = ["/", "/executions", "/history", "/pipelines/demo", "/executions/0b9c-11", "/executions/", "/history/"];
    expect(cases.map((p) => matchRoute(p))).toEqual([
      { name: "pipelines" },
      { name: "running" },
      { name: "history" },
      { name: "pipeline", id: "demo" },
      { name: "execution", id: "0b9c-11" },
      { name: "running" },
      { name: "history" },
    ]);
  });
  test("ids are percent-decoded; malformed encoding and unknown paths are not found", () => {
    expect(matchRoute("/pipelines/a%20b")).toEqual({ name: "pipeline", id: "a b" });
    expect(matchRoute("/executions/%E0%A4%A")).toEqual({ name: "not-found", path: "/executions/%E0%A4%A" });
    expect(matchRoute("/executions/a/b")).toEqual({ name: "not-found", path: "/executions/a/b" });
    expect(matchRoute("/nope")).toEqual({ name: "not-found", path: "/nope" });
  });
});
