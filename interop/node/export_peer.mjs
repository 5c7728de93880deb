// A matrix-sdk-crypto peer for safemeet's key-export interop test: @matrix-org/matrix-sdk-crypto-wasm
// (matrix-rust-sdk compiled to wasm) driven over JSON lines. One request per stdin line, one response
// per stdout line:
//   {"op": ..., ...}  ->  {"ok": true, ...} | {"ok": false, "error": "..."}
//
// ops:
//   encrypt {json, passphrase, rounds}  -> {file}   (OlmMachine.encryptExportedRoomKeys)
//   decrypt {file, passphrase}          -> {json}   (OlmMachine.decryptExportedRoomKeys: the entries
//                                                    as matrix-sdk-crypto parsed and re-serialized them)
//
// Test peer only: never part of the crate.
import * as readline from "node:readline";
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm";

await wasm.initAsync();

function handle(req) {
    switch (req.op) {
        case "encrypt":
            return { file: wasm.OlmMachine.encryptExportedRoomKeys(req.json, req.passphrase, req.rounds) };
        case "decrypt":
            return { json: wasm.OlmMachine.decryptExportedRoomKeys(req.file, req.passphrase) };
        default:
            throw new Error(`unknown op ${req.op}`);
    }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of rl) {
    let res;
    try {
        res = { ok: true, ...handle(JSON.parse(line)) };
    } catch (e) {
        res = { ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(res) + "\n");
}
