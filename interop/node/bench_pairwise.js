'use strict';
// Times npm `libsignal@6.0.0` doing the operations of safemeet's `benches/signal.rs`, for comparison in
// notes only (run by hand: `node bench_pairwise.js`; not part of CI). Prints the median of several
// batches per operation, in microseconds per operation.
//
// - handshake: Alice's session from Bob's bundle and her pre-key message, Bob's session from it, his
//   reply and Alice reading it (key generation for Bob's bundle outside the timing, as in the Rust bench)
// - encrypt/decrypt 100 B and 16 KiB on an established session
// - ping-pong 100 B: one round trip (two DH ratchet steps)
// - session pickle/unpickle: SessionRecord serialize + JSON.stringify, and JSON.parse + deserialize

const libsignal = require('libsignal');

function party(name) {
    const state = {
        identity: libsignal.keyhelper.generateIdentityKeyPair(),
        registrationId: libsignal.keyhelper.generateRegistrationId(),
        preKeys: new Map(),
        signed: new Map(),
        sessions: new Map(),
    };
    const store = {
        async getOurIdentity() { return state.identity; },
        async getOurRegistrationId() { return state.registrationId; },
        async isTrustedIdentity() { return true; },
        async loadSession(a) { return state.sessions.get(a); },
        async storeSession(a, r) { state.sessions.set(a, r); },
        async loadPreKey(id) { return state.preKeys.get(id); },
        async removePreKey(id) { state.preKeys.delete(id); },
        async loadSignedPreKey(id) { return state.signed.get(id); },
    };
    return { name, state, store, addr: new libsignal.ProtocolAddress(name, 1) };
}

function bundleOf(p, id) {
    const signed = libsignal.keyhelper.generateSignedPreKey(p.state.identity, id);
    p.state.signed.set(id, signed.keyPair);
    const pre = libsignal.keyhelper.generatePreKey(id);
    p.state.preKeys.set(id, pre.keyPair);
    return {
        registrationId: p.state.registrationId,
        identityKey: p.state.identity.pubKey,
        signedPreKey: { keyId: id, publicKey: signed.keyPair.pubKey, signature: signed.signature },
        preKey: { keyId: id, publicKey: pre.keyPair.pubKey },
    };
}

const cipher = (from, to) => new libsignal.SessionCipher(from.store, to.addr);

async function decrypt(from, to, m) {
    const c = cipher(to, from);
    return m.type === 3 ? c.decryptPreKeyWhisperMessage(m.body) : c.decryptWhisperMessage(m.body);
}

async function established() {
    const alice = party('alice'), bob = party('bob');
    await new libsignal.SessionBuilder(alice.store, bob.addr).initOutgoing(bundleOf(bob, 1));
    await decrypt(alice, bob, await cipher(alice, bob).encrypt(Buffer.from('hello')));
    await decrypt(bob, alice, await cipher(bob, alice).encrypt(Buffer.from('hi')));
    return { alice, bob };
}

async function time(label, batches, perBatch, setup, op) {
    const results = [];
    for (let b = 0; b < batches; b++) {
        const inputs = [];
        for (let i = 0; i < perBatch; i++) inputs.push(await setup());
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < perBatch; i++) await op(inputs[i]);
        results.push(Number(process.hrtime.bigint() - t0) / 1000 / perBatch);
    }
    results.sort((a, b) => a - b);
    console.log(`${label.padEnd(28)} median ${results[results.length >> 1].toFixed(1)} µs`);
}

(async () => {
    console.log(`npm libsignal ${require('libsignal/package.json').version}, node ${process.version}`);
    const alice = party('alice');
    let id = 1;
    await time('signal-handshake', 9, 50, () => {
        const bob = party('bob' + id);
        return { bob, bundle: bundleOf(bob, id++) };
    }, async ({ bob, bundle }) => {
        await new libsignal.SessionBuilder(alice.store, bob.addr).initOutgoing(bundle);
        await decrypt(alice, bob, await cipher(alice, bob).encrypt(Buffer.from('hello')));
        await decrypt(bob, alice, await cipher(bob, alice).encrypt(Buffer.from('hi')));
    });
    for (const size of [100, 16 * 1024]) {
        const pt = Buffer.alloc(size, 0xa5);
        let s = await established();
        await time(`signal-encrypt-${size}B`, 9, 200, () => null,
            () => cipher(s.alice, s.bob).encrypt(pt));
        s = await established();
        await time(`signal-decrypt-${size}B`, 9, 200,
            () => cipher(s.alice, s.bob).encrypt(pt),
            (m) => decrypt(s.alice, s.bob, m));
    }
    const s = await established();
    const pt = Buffer.alloc(100, 0xa5);
    await time('signal-ping-pong-100B', 9, 100, () => null, async () => {
        await decrypt(s.alice, s.bob, await cipher(s.alice, s.bob).encrypt(pt));
        await decrypt(s.bob, s.alice, await cipher(s.bob, s.alice).encrypt(pt));
    });
    const record = s.bob.state.sessions.get(s.alice.addr.toString());
    await time('signal-session-pickle', 9, 500, () => null,
        () => JSON.stringify(record.serialize()));
    const json = JSON.stringify(record.serialize());
    await time('signal-session-unpickle', 9, 500, () => null,
        () => libsignal.SessionRecord.deserialize(JSON.parse(json)));
})();
