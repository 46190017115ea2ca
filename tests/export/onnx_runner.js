#!/usr/bin/env node
// Runs an exported hepgnn model (DESIGN §3.4) with ONNX Runtime for the export tests.
//
//   node onnx_runner.js --model M.onnx --x X.bin --features F --edge-index EI.bin --out OUT
//                       [--json] [--threads T]
//
// X.bin: float32 [N, F] little-endian, row-major (N = size / 4F). EI.bin: int64 [2, E]
// (row 0 senders, row 1 receivers; E = size / 16). OUT: the logits, float32 [E] raw, or a
// JSON array with --json. onnxruntime-node is loaded from $ONNXRUNTIME_NODE_DIR, else from
// build/onnxruntime/node_modules/onnxruntime-node of the repository (where
// scripts/install-deps.sh puts it). Any failure: one line on stderr, exit code 1.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
    process.stderr.write(`onnx_runner: ${String(message).split('\n')[0]}\n`);
    process.exit(1);
}

function parseArgs(argv) {
    const opts = {json: false, threads: 1};
    const valued = {
        '--model': 'model',
        '--x': 'x',
        '--features': 'features',
        '--edge-index': 'edgeIndex',
        '--out': 'out',
        '--threads': 'threads',
    };
    for (let i = 0; i < argv.length; ++i) {
        const a = argv[i];
        if (a === '--json') {
            opts.json = true;
        } else if (a in valued) {
            if (i + 1 >= argv.length) fail(`${a} needs a value`);
            opts[valued[a]] = argv[++i];
        } else {
            fail(`unknown argument '${a}'; usage: --model M --x X --features F ` +
                 `--edge-index EI --out OUT [--json] [--threads T]`);
        }
    }
    for (const key of ['model', 'x', 'features', 'edgeIndex', 'out'])
        if (opts[key] === undefined) fail(`missing --${key.replace('edgeIndex', 'edge-index')}`);
    opts.features = Number(opts.features);
    opts.threads = Number(opts.threads);
    if (!Number.isInteger(opts.features) || opts.features < 1)
        fail(`--features must be a positive integer`);
    return opts;
}

// A typed array over a copy of the file (Buffer offsets need not be aligned).
function readTyped(file, Type) {
    let bytes;
    try {
        bytes = fs.readFileSync(file);
    } catch (e) {
        fail(`cannot read '${file}': ${e.message}`);
    }
    if (bytes.length % Type.BYTES_PER_ELEMENT !== 0)
        fail(`'${file}' has ${bytes.length} bytes, not a multiple of ${Type.BYTES_PER_ELEMENT}`);
    const copy = new Uint8Array(bytes);
    return new Type(copy.buffer, 0, bytes.length / Type.BYTES_PER_ELEMENT);
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const dir = process.env.ONNXRUNTIME_NODE_DIR ||
        path.join(__dirname, '..', '..', 'build', 'onnxruntime', 'node_modules',
                  'onnxruntime-node');
    let ort;
    try {
        ort = require(path.resolve(dir));
    } catch (e) {
        fail(`cannot load onnxruntime-node from '${dir}' (set ONNXRUNTIME_NODE_DIR or run ` +
             `scripts/install-deps.sh): ${e.message}`);
    }

    const x = readTyped(opts.x, Float32Array);
    if (x.length % opts.features !== 0)
        fail(`'${opts.x}' holds ${x.length} floats, not a multiple of ${opts.features} features`);
    const edgeIndex = readTyped(opts.edgeIndex, BigInt64Array);
    if (edgeIndex.length % 2 !== 0) fail(`'${opts.edgeIndex}' holds an odd number of int64s`);
    const n = x.length / opts.features;
    const e = edgeIndex.length / 2;

    let session;
    try {
        session = await ort.InferenceSession.create(opts.model, {
            intraOpNumThreads: opts.threads,
            interOpNumThreads: 1,
        });
    } catch (err) {
        fail(`cannot load '${opts.model}': ${err.message}`);
    }
    let result;
    try {
        result = await session.run({
            x: new ort.Tensor('float32', x, [n, opts.features]),
            edge_index: new ort.Tensor('int64', edgeIndex, [2, e]),
        });
    } catch (err) {
        fail(`running '${opts.model}' on N=${n}, E=${e} failed: ${err.message}`);
    }
    const logits = result.logits;
    if (!logits) fail(`'${opts.model}' has no output named 'logits'`);
    if (logits.type !== 'float32' || logits.dims.length !== 1 || logits.dims[0] !== e)
        fail(`logits are ${logits.type} [${logits.dims}], expected float32 [${e}]`);
    const data = logits.data;
    try {
        if (opts.json) {
            fs.writeFileSync(opts.out, JSON.stringify(Array.from(data)) + '\n');
        } else {
            fs.writeFileSync(opts.out, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        }
    } catch (err) {
        fail(`cannot write '${opts.out}': ${err.message}`);
    }
}

main().catch((err) => fail(err && err.stack ? err.message : err));
