'use strict';
// A classic Signal peer for safemeet's interop tests: npm `libsignal@6.0.0` (WhiskeySockets/libsignal-node)
// driven over JSON lines. One request per stdin line, one response per stdout line:
//   {"op": ..., ...}  ->  {"ok": true, ...} | {"ok": false, "error": "..."}
// The peer is one device ("peer.1") talking to one device ("safemeet.1"). Byte strings are hex.
//
// ops:
//   init {registrationId?}                   -> {identityKey, registrationId}
//   bundle {signedPreKeyId, preKeyId?}       -> {bundle} (a fresh signed prekey, and a one-time prekey if asked)
//   initOutgoing {bundle}                    -> {}   (SessionBuilder.initOutgoing)
//   encrypt {plaintext}                      -> {type, body, registrationId}
//   decrypt {type, body}                     -> {plaintext}  (type 3: decryptPreKeyWhisperMessage, else decryptWhisperMessage)
//   remoteRegistrationId                     -> {registrationId}
//   hasPreKey {id}                           -> {present}
//
// Test peer only: never part of the crate. Sessions are stored serialized, as an application would, so a
// failed decrypt cannot leave half-applied changes behind in the store.

const readline = require('readline');
const libsignal = require('libsignal');

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => Buffer.from(s, 'hex');

const REMOTE = new libsignal.ProtocolAddress('safemeet', 1);

const state = {
    identity: null,
    registrationId: 0,
    preKeys: new Map(),
    signedPreKeys: new Map(),
    sessions: new Map(),
};

const store = {
    async getOurIdentity() { return state.identity; },
    async getOurRegistrationId() { return state.registrationId; },
    async isTrustedIdentity(_id, _key) { return true; },
    async loadSession(addr) {
        const data = state.sessions.get(addr);
        return data ? libsignal.SessionRecord.deserialize(data) : undefined;
    },
    async storeSession(addr, record) { state.sessions.set(addr, record.serialize()); },
    async loadPreKey(id) {
        const k = state.preKeys.get(id);
        return k ? { pubKey: k.pubKey, privKey: k.privKey } : undefined;
    },
    async removePreKey(id) { state.preKeys.delete(id); },
    async loadSignedPreKey(id) {
        const k = state.signedPreKeys.get(id);
        return k ? { pubKey: k.pubKey, privKey: k.privKey } : undefined;
    },
};

async function handle(req) {
    switch (req.op) {
    case 'init': {
        state.identity = libsignal.keyhelper.generateIdentityKeyPair();
        state.registrationId = req.registrationId !== undefined
            ? req.registrationId : libsignal.keyhelper.generateRegistrationId();
        return { identityKey: hex(state.identity.pubKey), registrationId: state.registrationId };
    }
    case 'bundle': {
        const signed = libsignal.keyhelper.generateSignedPreKey(state.identity, req.signedPreKeyId);
        state.signedPreKeys.set(signed.keyId, signed.keyPair);
        const bundle = {
            registrationId: state.registrationId,
            identityKey: hex(state.identity.pubKey),
            signedPreKey: {
                keyId: signed.keyId,
                publicKey: hex(signed.keyPair.pubKey),
                signature: hex(signed.signature),
            },
        };
        if (req.preKeyId !== undefined && req.preKeyId !== null) {
            const pre = libsignal.keyhelper.generatePreKey(req.preKeyId);
            state.preKeys.set(pre.keyId, pre.keyPair);
            bundle.preKey = { keyId: pre.keyId, publicKey: hex(pre.keyPair.pubKey) };
        }
        return { bundle };
    }
    case 'initOutgoing': {
        const b = req.bundle;
        const device = {
            registrationId: b.registrationId,
            identityKey: unhex(b.identityKey),
            signedPreKey: {
                keyId: b.signedPreKey.keyId,
                publicKey: unhex(b.signedPreKey.publicKey),
                signature: unhex(b.signedPreKey.signature),
            },
        };
        if (b.preKey) {
            device.preKey = { keyId: b.preKey.keyId, publicKey: unhex(b.preKey.publicKey) };
        }
        await new libsignal.SessionBuilder(store, REMOTE).initOutgoing(device);
        return {};
    }
    case 'encrypt': {
        const m = await new libsignal.SessionCipher(store, REMOTE).encrypt(unhex(req.plaintext));
        return { type: m.type, body: hex(m.body), registrationId: m.registrationId };
    }
    case 'decrypt': {
        const cipher = new libsignal.SessionCipher(store, REMOTE);
        const body = unhex(req.body);
        const pt = req.type === 3
            ? await cipher.decryptPreKeyWhisperMessage(body)
            : await cipher.decryptWhisperMessage(body);
        return { plaintext: hex(pt) };
    }
    case 'remoteRegistrationId': {
        const record = await store.loadSession(REMOTE.toString());
        const session = record && record.getOpenSession();
        return { registrationId: session ? session.registrationId : null };
    }
    case 'hasPreKey':
        return { present: state.preKeys.has(req.id) };
    default:
        throw new Error('unknown op ' + req.op);
    }
}

// libsignal logs session changes with console.log/warn; keep stdout for responses only.
console.log = (...args) => process.stderr.write(args.join(' ') + '\n');
console.warn = console.log;
console.info = console.log;

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
    chain = chain.then(async () => {
        let res;
        try {
            res = Object.assign({ ok: true }, await handle(JSON.parse(line)));
        } catch (e) {
            res = { ok: false, error: String(e && (e.name + ': ' + e.message)) };
        }
        process.stdout.write(JSON.stringify(res) + '\n');
    });
});
