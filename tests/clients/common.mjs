// Shared by the client tests: a tiny synthetic checkpoint, a `voxtral-rt serve` on loopback,
// offline transcripts from the CLI (the expected values), WAV reading and writing.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const BIN = process.env.VRT_BINARY_DIR;
export const DATA = process.env.VRT_SHARED_DATA;
if (!BIN || !DATA) throw new Error("run through tests/clients/run.sh (VRT_BINARY_DIR, VRT_SHARED_DATA)");
export const CLI = join(BIN, "voxtral-rt");
export const REALTIME_MODEL = "voxtral-mini-transcribe-realtime-2602";

export function clip(name) {
  return join(DATA, "audio", name);
}

export function tempDir() {
  const d = mkdtempSync(join(tmpdir(), "vrt-clients-"));
  process.on("exit", () => rmSync(d, { recursive: true, force: true }));
  return d;
}

// A tiny checkpoint whose output varies with the audio (the server e2e tests' settings).
export function makeModel(dir) {
  const m = join(dir, "model");
  execFileSync(join(BIN, "voxtral-rt-synth"), ["-q", "--config", "tiny", "--seed", "21", "--weight-scale", "2", "-o", m]);
  return m;
}

// `voxtral-rt transcribe` of a file: the offline transcript every client must reproduce.
export function offline(model, file, format = "json") {
  const out = execFileSync(CLI, ["transcribe", "--no-progress", "-t", "1", "-m", model, "-f", format, file], {
    maxBuffer: 64 << 20,
  }).toString("utf8");
  return format === "json" ? JSON.parse(out) : out;
}

// Starts `voxtral-rt serve` on a free port; resolves once it listens.
export async function startServer(model, extraArgs = []) {
  const proc = spawn(CLI, ["serve", "-m", model, "--port", "0", "-t", "1", "--drain-timeout-s", "5", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.on("line", (line) => {
      const m = /^listening on .*:(\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", (code) => reject(new Error(`serve exited ${code} before listening:\n${stderr}`)));
  });
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    // SIGINT shuts down at once; the server must exit 0 (under ASan: no leak, no error).
    async stop() {
      proc.kill("SIGINT");
      const r = await exited;
      if (r.code !== 0) throw new Error(`serve exited ${r.code} ${r.signal ?? ""}:\n${stderr}`);
    },
  };
}

// RIFF/WAVE: {rate, channels, format ("s16" | "f32"), data (Buffer)} of a PCM or float file.
export function readWav(path) {
  const b = readFileSync(path);
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE") throw new Error(`${path}: not WAVE`);
  let off = 12;
  let fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString("ascii", off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === "fmt ") {
      const tag = b.readUInt16LE(body);
      const bits = b.readUInt16LE(body + 14);
      const kind = tag === 3 || (tag === 0xfffe && bits === 32) ? "f32" : bits === 16 ? "s16" : null;
      if (!kind) throw new Error(`${path}: format tag ${tag}, ${bits} bits not handled here`);
      fmt = { rate: b.readUInt32LE(body + 4), channels: b.readUInt16LE(body + 2), format: kind };
    } else if (id === "data" && fmt) {
      return { ...fmt, data: b.subarray(body, Math.min(body + size, b.length)) };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no fmt/data chunk`);
}

// A mono WAV: 16-bit PCM (Int16Array) or 32-bit float (Float32Array).
export function writeWav(path, samples, rate) {
  const float = samples instanceof Float32Array;
  const bytes = samples.length * (float ? 4 : 2);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + bytes, 4);
  h.write("WAVEfmt ", 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(float ? 3 : 1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * (float ? 4 : 2), 28);
  h.writeUInt16LE(float ? 4 : 2, 32);
  h.writeUInt16LE(float ? 32 : 16, 34);
  h.write("data", 36);
  h.writeUInt32LE(bytes, 40);
  writeFileSync(path, Buffer.concat([h, Buffer.from(samples.buffer, samples.byteOffset, bytes)]));
}

// Linear interpolation to another rate: a test signal, or a band-limited one compared roughly.
export function linearResample(x, from, to) {
  const n = Math.floor((x.length * to) / from);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const p = (i * from) / to;
    const k = Math.floor(p);
    const f = p - k;
    y[i] = x[k] * (1 - f) + (x[Math.min(k + 1, x.length - 1)] ?? 0) * f;
  }
  return y;
}

export function check(cond, message) {
  if (!cond) throw new Error(`FAILED: ${message}`);
}

export function eq(actual, expected, what) {
  if (actual !== expected)
    throw new Error(`FAILED: ${what}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`);
}

// Runs named async cases in order, prints one line each, exits 1 on the first failure.
export async function runCases(cases) {
  for (const [name, fn] of cases) {
    const t0 = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      console.log(`FAIL ${name}\n${e.stack ?? e}`);
      process.exitCode = 1;
      return;
    }
  }
}
