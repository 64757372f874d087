#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (CPU, the npm package onnxruntime-node
// installed next to this script by scripts/setup.sh) on raw float32 inputs.
// msprune's ONNX tests drive it (tests/interop/test_onnx.cpp); docs/interop.md.
//
//   node tools/ort/run.js infer MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32 [--threads T]
//       INPUT.f32: N*C*H*W little-endian float32 (NCHW); the model's only
//       input is fed with it in one run. OUTPUT.f32 receives the model's
//       first output, raw float32; stdout gets one JSON line
//       {"output": name, "dims": [...], "ms": wall time of the run}.
//   node tools/ort/run.js bench MODEL.onnx C,H,W [--warmup W] [--runs R] [--seed S]
//       Timing at batch 1, one thread (intraOpNumThreads = interOpNumThreads
//       = 1): W untimed runs, then R timed runs of session.run on one
//       seeded random input; prints JSON with p50/p90/p99 in microseconds.
//   node tools/ort/run.js bridge [--warmup W] [--runs R]
//       The same timing on a graph with a single Identity on a 1x3x32x32
//       input (built here, no file): what the Node binding itself costs per run.
//   node tools/ort/run.js serve MODEL.onnx INPUTS.f32 K,B,C,H,W [--threads T]
//       ONNX Runtime as a peer of `msprune bench` (bench/native/ort_peer.cpp),
//       driven over stdin/stdout so that its timed blocks alternate with the
//       other sides' in one run. INPUTS.f32 holds K batches [B,C,H,W] (the
//       inputs the other sides run); T intra-op threads (default 1). One line each way:
//         <- {"ready":true,"ort":"1.30.0","node":"v20...","input":"x","output":"y"}
//         -> run N FIRST   N timed session.run calls on batches FIRST, FIRST+1, ... (mod K)
//         <- {"us":[...]}  microseconds per call (process.hrtime around session.run)
//         -> bridge N      the same on an Identity graph of the input's shape: the
//         <- {"us":[...]}  binding's own cost per call (an upper bound on its share
//                          of a model's call, whose output is smaller)
//         -> logits J      <- {"logits":[...]}: the first output for batch J
//         -> quit
//
// Errors: one line on stderr, "run.js: error: ...", exit status 1.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`run.js: error: ${msg}\n`);
  process.exit(1);
}

function loadOrt() {
  const dir = path.join(__dirname, 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(dir)) fail(`${dir} not found: run scripts/setup.sh (npm ci --ignore-scripts in tools/ort)`);
  try {
    return require(dir);
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${dir}: ${e.message}`);
  }
}

function parseDims(s, n, what) {
  const parts = String(s).split(',');
  if (parts.length !== n) fail(`${what} '${s}' must have ${n} comma-separated sizes`);
  return parts.map((p) => {
    if (!/^[0-9]+$/.test(p) || Number(p) < 1 || Number(p) > 1 << 20) fail(`${what} '${s}': bad size '${p}'`);
    return Number(p);
  });
}

// --name value options after the positional arguments.
function parseOptions(args, known) {
  const opts = {};
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i];
    if (!k.startsWith('--') || !(k.slice(2) in known)) fail(`unknown option '${k}' (known: ${Object.keys(known).map((x) => '--' + x).join(', ')})`);
    if (i + 1 >= args.length) fail(`option ${k} needs a value`);
    const v = args[i + 1];
    if (!/^[0-9]+$/.test(v) || Number(v) < known[k.slice(2)][0] || Number(v) > known[k.slice(2)][1])
      fail(`option ${k} '${v}' must be an integer in [${known[k.slice(2)].join(', ')}]`);
    opts[k.slice(2)] = Number(v);
  }
  return opts;
}

async function createSession(ort, model, threads) {
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (e) {
    fail(`ONNX Runtime cannot load ${typeof model === 'string' ? model : 'the model'}: ${e.message}`);
  }
}

function onlyInput(session) {
  if (session.inputNames.length !== 1) fail(`the model has ${session.inputNames.length} inputs (one expected)`);
  return session.inputNames[0];
}

async function infer(ort, args) {
  if (args.length < 4) fail('usage: run.js infer MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32 [--threads T]');
  const [model, input, shape, output] = args;
  const opts = parseOptions(args.slice(4), { threads: [1, 256] });
  const dims = parseDims(shape, 4, 'shape');
  const count = dims.reduce((a, b) => a * b, 1);
  if (!fs.existsSync(model)) fail(`${model} not found`);
  const data = readInputs(input, count, `shape ${dims.join('x')}`);

  const session = await createSession(ort, model, opts.threads || 1);
  const feeds = { [onlyInput(session)]: new ort.Tensor('float32', data, dims) };
  const t0 = process.hrtime.bigint();
  let result;
  try {
    result = await session.run(feeds);
  } catch (e) {
    fail(`ONNX Runtime failed to run ${model}: ${e.message}`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const name = session.outputNames[0];
  const out = result[name];
  if (out.type !== 'float32') fail(`output ${name} is ${out.type}, not float32`);
  const bytes = Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  try {
    fs.writeFileSync(output, bytes);
  } catch (e) {
    fail(`cannot write ${output}: ${e.message}`);
  }
  process.stdout.write(JSON.stringify({ output: name, dims: out.dims, ms }) + '\n');
}

function percentile(sorted, q) {
  // numpy's default (linear interpolation between closest ranks)
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Standard-normal inputs from a seeded xorshift + Box-Muller (reproducible).
function randomInput(count, seed) {
  let s = (seed >>> 0) || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const a = new Float32Array(count);
  for (let i = 0; i < count; ++i) a[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return a;
}

async function timeRuns(session, feeds, warmup, runs) {
  for (let i = 0; i < warmup; ++i) await session.run(feeds);
  const us = new Float64Array(runs);
  for (let i = 0; i < runs; ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    us[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  us.sort();
  const mean = us.reduce((a, b) => a + b, 0) / runs;
  return {
    runs,
    warmup,
    p50_us: percentile(us, 0.5),
    p90_us: percentile(us, 0.9),
    p99_us: percentile(us, 0.99),
    mean_us: mean,
    min_us: us[0],
  };
}

async function bench(ort, args) {
  if (args.length < 2) fail('usage: run.js bench MODEL.onnx C,H,W [--warmup W] [--runs R] [--seed S]');
  const [model, shape] = args;
  const opts = parseOptions(args.slice(2), { warmup: [0, 1e6], runs: [1, 1e7], seed: [0, 2 ** 32 - 1] });
  const [c, h, w] = parseDims(shape, 3, 'shape');
  if (!fs.existsSync(model)) fail(`${model} not found`);
  const session = await createSession(ort, model, 1);
  const feeds = { [onlyInput(session)]: new ort.Tensor('float32', randomInput(c * h * w, opts.seed ?? 1), [1, c, h, w]) };
  const r = await timeRuns(session, feeds, opts.warmup ?? 20, opts.runs ?? 200);
  process.stdout.write(JSON.stringify({ model, engine: `onnxruntime-node ${ort.env.versions.common} (CPU)`,
    threads: 1, batch: 1, ...r }) + '\n');
}

// A ModelProto with one Identity node, float in and out of shape `dims`,
// written by hand in protobuf wire format (so the overhead figure needs no file).
function identityModel(dims = [1, 3, 32, 32]) {
  const varint = (n) => { const b = []; while (n > 127) { b.push((n & 127) | 128); n >>>= 7; } b.push(n); return Buffer.from(b); };
  const field = (no, payload) => Buffer.concat([varint((no << 3) | 2), varint(payload.length), payload]);
  const vint = (no, n) => Buffer.concat([varint(no << 3), varint(n)]);
  const str = (no, s) => field(no, Buffer.from(s));
  const dim = (v) => field(1, vint(1, v));  // TensorShapeProto.Dimension.dim_value
  const shape = field(2, Buffer.concat(dims.map(dim)));  // TensorShapeProto
  const tensorType = field(1, Buffer.concat([vint(1, 1), shape]));  // TypeProto.tensor_type (FLOAT)
  const valueInfo = (no, name) => field(no, Buffer.concat([str(1, name), field(2, tensorType)]));
  const node = field(1, Buffer.concat([str(1, 'x'), str(2, 'y'), str(3, 'identity'), str(4, 'Identity')]));
  const graph = Buffer.concat([node, str(2, 'bridge'), valueInfo(11, 'x'), valueInfo(12, 'y')]);
  const opset = field(8, vint(2, 13));  // OperatorSetIdProto {version: 13}
  return Buffer.concat([vint(1, 8), str(2, 'msprune run.js'), field(7, graph), opset]);
}

async function bridge(ort, args) {
  const opts = parseOptions(args, { warmup: [0, 1e6], runs: [1, 1e7] });
  const session = await createSession(ort, identityModel(), 1);
  const feeds = { x: new ort.Tensor('float32', randomInput(3 * 32 * 32, 1), [1, 3, 32, 32]) };
  const r = await timeRuns(session, feeds, opts.warmup ?? 200, opts.runs ?? 2000);
  process.stdout.write(JSON.stringify({ model: 'Identity [1,3,32,32] (the bridge itself)',
    engine: `onnxruntime-node ${ort.env.versions.common} (CPU)`, threads: 1, batch: 1, ...r }) + '\n');
}

// `count` float32 values from `file` (little-endian), as an aligned copy.
function readInputs(file, count, what) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
  if (buf.length !== count * 4) fail(`${file} has ${buf.length} bytes, ${what} needs ${count * 4}`);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) fail('this script assumes a little-endian machine');
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(buf);
  return data;
}

async function serve(ort, args) {
  if (args.length < 3) fail('usage: run.js serve MODEL.onnx INPUTS.f32 K,B,C,H,W [--threads T]');
  const [model, input, shape] = args;
  const opts = parseOptions(args.slice(3), { threads: [1, 256] });
  const [K, B, C, H, W] = parseDims(shape, 5, 'shape');
  const per = B * C * H * W;
  if (!fs.existsSync(model)) fail(`${model} not found`);
  const all = readInputs(input, K * per, `shape ${K}x${B}x${C}x${H}x${W}`);
  const session = await createSession(ort, model, opts.threads || 1);
  const bridgeSession = await createSession(ort, identityModel([B, C, H, W]), opts.threads || 1);
  const name = onlyInput(session), output = session.outputNames[0];
  const batches = [];
  for (let j = 0; j < K; ++j) batches.push(new ort.Tensor('float32', all.subarray(j * per, (j + 1) * per), [B, C, H, W]));
  const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  send({ ready: true, ort: ort.env.versions.common, node: process.version, input: name, output });
  const timed = async (s, feeds) => {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    return Number(process.hrtime.bigint() - t0) / 1e3;
  };
  const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    const [cmd, a, b] = line.trim().split(/\s+/);
    const n = Number(a), first = Number(b);
    const count = (v) => Number.isInteger(v) && v >= 0 && v <= 1e7;
    try {
      if (cmd === 'run' && count(n) && count(first)) {
        const us = [];
        for (let i = 0; i < n; ++i) us.push(await timed(session, { [name]: batches[(first + i) % K] }));
        send({ us });
      } else if (cmd === 'bridge' && count(n)) {
        const us = [];
        for (let i = 0; i < n; ++i) us.push(await timed(bridgeSession, { x: batches[i % K] }));
        send({ us });
      } else if (cmd === 'logits' && count(n) && n < K) {
        const out = await session.run({ [name]: batches[n] });
        send({ logits: Array.from(out[output].data) });
      } else if (cmd === 'quit') {
        break;
      } else {
        fail(`serve: unknown request '${line.trim()}' (run N FIRST, bridge N, logits J, quit)`);
      }
    } catch (e) {
      fail(`ONNX Runtime failed on '${line.trim()}': ${e.message}`);
    }
  }
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  const modes = { infer, bench, bridge, serve };
  if (!(mode in modes)) fail(`mode '${mode ?? ''}' (infer, bench, bridge or serve); see the comment at the top of ${__filename}`);
  await modes[mode](loadOrt(), args);
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
