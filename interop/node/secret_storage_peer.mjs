// A Matrix secret-storage peer for safemeet's interop tests: matrix-js-sdk 43 (recovery keys, m.pbkdf2,
// m.secret_storage.v1.aes-hmac-sha2, its ServerSideSecretStorageImpl over an in-memory account) driven
// over JSON lines. One request per stdin line, one response per stdout line:
//   {"op": ..., ...}  ->  {"ok": true, ...} | {"ok": false, "error": "..."}
// Raw keys are hex; everything else is as Matrix writes it (base64 strings, JSON objects).
//
// ops:
//   encode {key}                                  -> {text}        encodeRecoveryKey
//   decode {text}                                 -> {key}         decodeRecoveryKey
//   derive {passphrase, salt, iterations}         -> {key}         deriveRecoveryKeyFromPassphrase
//   encrypt {key, name, data}                     -> {iv, ciphertext, mac}   encryptAESSecretStorageItem
//   decrypt {key, name, iv, ciphertext, mac}      -> {data}        decryptAESSecretStorageItem
//   keyCheck {key, iv?}                           -> {iv, mac}     calculateKeyCheck
//   checkKey {key, info}                          -> {matches}     ServerSideSecretStorageImpl.checkKey
//   addKey {key, passphrase?}                     -> {keyId, info} ServerSideSecretStorageImpl.addKey
//   store {key, keyId, info, name, secret}        -> {content}     ServerSideSecretStorageImpl.store
//   get {key, keyId, info, name, content}         -> {secret}      ServerSideSecretStorageImpl.get
//
// Test peer only: never part of the crate.

import readline from "node:readline";
import { encodeRecoveryKey, decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import { deriveRecoveryKeyFromPassphrase } from "matrix-js-sdk/lib/crypto-api/key-passphrase.js";
import encryptAESSecretStorageItem from "matrix-js-sdk/lib/utils/encryptAESSecretStorageItem.js";
import decryptAESSecretStorageItem from "matrix-js-sdk/lib/utils/decryptAESSecretStorageItem.js";
import {
    ServerSideSecretStorageImpl,
    SECRET_STORAGE_ALGORITHM_V1_AES,
    calculateKeyCheck,
} from "matrix-js-sdk/lib/secret-storage.js";

const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));

/** A secret storage over an in-memory account holding `data`, whose key callback returns `key`. */
function storage(data, keyId, key) {
    const account = new Map(Object.entries(data));
    const adapter = {
        async getAccountDataFromServer(type) { return account.get(type) ?? null; },
        async setAccountData(type, content) { account.set(type, content); return {}; },
        on() {}, off() {}, removeListener() {},
    };
    const callbacks = {
        async getSecretStorageKey({ keys }) {
            return keys[keyId] ? [keyId, key] : null;
        },
    };
    return { ss: new ServerSideSecretStorageImpl(adapter, callbacks), account };
}

async function handle(req) {
    switch (req.op) {
    case "encode":
        return { text: encodeRecoveryKey(unhex(req.key)) };
    case "decode":
        return { key: hex(decodeRecoveryKey(req.text)) };
    case "derive":
        return { key: hex(await deriveRecoveryKeyFromPassphrase(req.passphrase, req.salt, req.iterations)) };
    case "encrypt":
        return await encryptAESSecretStorageItem(req.data, unhex(req.key), req.name);
    case "decrypt":
        return { data: await decryptAESSecretStorageItem(
            { iv: req.iv, ciphertext: req.ciphertext, mac: req.mac }, unhex(req.key), req.name) };
    case "keyCheck":
        return await calculateKeyCheck(unhex(req.key), req.iv);
    case "checkKey": {
        const { ss } = storage({}, "", null);
        return { matches: await ss.checkKey(unhex(req.key), req.info) };
    }
    case "addKey": {
        const { ss } = storage({}, "", null);
        const opts = { key: unhex(req.key) };
        if (req.passphrase) opts.passphrase = req.passphrase;
        const { keyId, keyInfo } = await ss.addKey(SECRET_STORAGE_ALGORITHM_V1_AES, opts);
        return { keyId, info: keyInfo };
    }
    case "store": {
        const { ss, account } = storage({ [`m.secret_storage.key.${req.keyId}`]: req.info }, req.keyId, unhex(req.key));
        await ss.store(req.name, req.secret, [req.keyId]);
        return { content: account.get(req.name) };
    }
    case "get": {
        const { ss } = storage({
            [`m.secret_storage.key.${req.keyId}`]: req.info,
            [req.name]: req.content,
        }, req.keyId, unhex(req.key));
        return { secret: await ss.get(req.name) };
    }
    default:
        throw new Error(`unknown op ${req.op}`);
    }
}

const rl = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on("line", (line) => {
    queue = queue.then(async () => {
        let response;
        try {
            response = { ok: true, ...(await handle(JSON.parse(line))) };
        } catch (e) {
            response = { ok: false, error: String(e && e.message ? e.message : e) };
        }
        process.stdout.write(JSON.stringify(response) + "\n");
    });
});
