// The peer's figures for benches/key_export.rs: matrix-sdk-crypto-wasm's encryptExportedRoomKeys and
// decryptExportedRoomKeys on 1000 room keys (the JSON is read from the file given as the first
// argument, as benches/key_export.rs writes it), at 1 round and at 500,000. Prints one line per case.
import { readFileSync } from "node:fs";
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm";

await wasm.initAsync();
const json = readFileSync(process.argv[2], "utf8");
const n = JSON.parse(json).length;

function time(label, iterations, f) {
    f();
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) f();
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / iterations;
    console.log(`${label}: ${ms.toFixed(2)} ms`);
}

for (const rounds of [1, 500000]) {
    const iterations = rounds === 1 ? 20 : 3;
    let file;
    time(`matrix-sdk-crypto-wasm export ${n} keys, ${rounds} round(s)`, iterations, () => {
        file = wasm.OlmMachine.encryptExportedRoomKeys(json, "passphrase", rounds);
    });
    time(`matrix-sdk-crypto-wasm import ${n} keys, ${rounds} round(s)`, iterations, () => {
        wasm.OlmMachine.decryptExportedRoomKeys(file, "passphrase");
    });
}
