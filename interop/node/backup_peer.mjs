// A Matrix key-backup peer for safemeet's interop tests: matrix-sdk-crypto (Rust, compiled to wasm:
// npm `@matrix-org/matrix-sdk-crypto-wasm@18.9.0`) driven over JSON lines. One request per stdin line,
// one response per stdout line:
//   {"op": ..., ...}  ->  {"ok": true, ...} | {"ok": false, "error": "..."}
//
// ops:
//   create                                   -> {key, public}   (BackupDecryptionKey.createRandomKey)
//   public {key}                             -> {key, public}   (fromBase64, then toBase64 and
//                                                               megolmV1PublicKey.publicKeyBase64)
//   decrypt {key, ephemeral, mac, ciphertext} -> {plaintext}    (BackupDecryptionKey.decryptV1)
//   backup {public, version, keys}           -> {body}          (a fresh OlmMachine imports the exported
//                                                               room keys `keys` (a JSON string), enables
//                                                               backup to `public`, and returns the
//                                                               body of its PUT /room_keys/keys request)
//
// Test peer only: never part of the crate.

import readline from "node:readline";
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm";

await wasm.initAsync();

let machines = 0;

async function handle(req) {
    switch (req.op) {
        case "create": {
            const key = wasm.BackupDecryptionKey.createRandomKey();
            return { key: key.toBase64(), public: key.megolmV1PublicKey.publicKeyBase64 };
        }
        case "public": {
            const key = wasm.BackupDecryptionKey.fromBase64(req.key);
            return { key: key.toBase64(), public: key.megolmV1PublicKey.publicKeyBase64 };
        }
        case "decrypt": {
            const key = wasm.BackupDecryptionKey.fromBase64(req.key);
            return { plaintext: key.decryptV1(req.ephemeral, req.mac, req.ciphertext) };
        }
        case "backup": {
            machines += 1;
            const machine = await wasm.OlmMachine.initialize(
                new wasm.UserId("@peer:example.org"),
                new wasm.DeviceId(`PEER${machines}`),
            );
            await machine.importExportedRoomKeys(req.keys, () => {});
            await machine.enableBackupV1(req.public, req.version);
            const request = await machine.backupRoomKeys();
            if (!request) throw new Error("nothing to back up");
            return { body: request.body, version: request.version };
        }
        default:
            throw new Error(`unknown op ${req.op}`);
    }
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
    let response;
    try {
        response = { ok: true, ...(await handle(JSON.parse(line))) };
    } catch (e) {
        response = { ok: false, error: String(e) };
    }
    process.stdout.write(JSON.stringify(response) + "\n");
}
