// Writes test-vectors/signal-sender-keys.json: sender-key messages made by
// @signalapp/libsignal-client (the version in package-lock.json), so that safemeet can check itself
// against libsignal without Node. Run by hand, not by CI:
//
//   (cd interop/node && node gen_sender_key_vectors.js ../../test-vectors/signal-sender-keys.json)
//
// libsignal-client draws its own randomness (chain id, chain key, signing key, signature nonces), so
// every run writes different bytes; the committed file is one recording. Before writing, every
// message is decrypted by a second libsignal-client store and every "rejected" case is refused by it,
// so the file only records what libsignal itself accepts and refuses.
'use strict';

const fs = require('node:fs');
const SignalClient = require('@signalapp/libsignal-client');
const pkg = require('@signalapp/libsignal-client/package.json');

const hex = (b) => Buffer.from(b).toString('hex');

class MemorySenderKeyStore extends SignalClient.SenderKeyStore {
  constructor() {
    super();
    this.records = new Map();
  }
  async saveSenderKey(sender, distributionId, record) {
    this.records.set(`${sender.name()}.${sender.deviceId()}::${distributionId}`, record.serialize());
  }
  async getSenderKey(sender, distributionId) {
    const found = this.records.get(`${sender.name()}.${sender.deviceId()}::${distributionId}`);
    return found === undefined ? null : SignalClient.SenderKeyRecord.deserialize(found);
  }
}

async function main() {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node gen_sender_key_vectors.js <output.json>');
  const distributionId = 'b5e0d3c1-7a2f-4c55-9e01-5a6d2f3e8c47';
  const alice = SignalClient.ProtocolAddress.new('alice', 1);
  const aliceStore = new MemorySenderKeyStore();
  const bobStore = new MemorySenderKeyStore();

  const skdm = await SignalClient.SenderKeyDistributionMessage.create(alice, distributionId, aliceStore);
  await SignalClient.processSenderKeyDistributionMessage(alice, skdm, bobStore);

  const lengths = [0, 1, 15, 16, 17, 31, 32, 100, 1000];
  const messages = [];
  let iteration = 0;
  for (const len of lengths) {
    const pt = Buffer.alloc(len);
    for (let j = 0; j < len; j++) pt[j] = (iteration * 37 + j * 11) & 0xff;
    const m = await SignalClient.groupEncrypt(alice, distributionId, aliceStore, new Uint8Array(pt));
    messages.push({ iteration, plaintext: hex(pt), message: hex(m.serialize()) });
    iteration++;
  }
  // The distribution message a member joining now would get: the chain key at this iteration.
  const later = await SignalClient.SenderKeyDistributionMessage.create(alice, distributionId, aliceStore);
  // A jump: 30 messages nobody records, then one.
  for (let i = 0; i < 30; i++) {
    await SignalClient.groupEncrypt(alice, distributionId, aliceStore, new Uint8Array(Buffer.from(`unrecorded ${i}`)));
    iteration++;
  }
  const jumpPt = Buffer.from('after a jump of thirty');
  const jump = await SignalClient.groupEncrypt(alice, distributionId, aliceStore, new Uint8Array(jumpPt));
  messages.push({ iteration, plaintext: hex(jumpPt), message: hex(jump.serialize()) });

  // Delivery order for the receiver: the jump first, then the rest late, in reverse.
  const order = [messages.length - 1, ...messages.slice(0, -1).map((_, i) => i).reverse()];
  for (const i of order) {
    const pt = await SignalClient.groupDecrypt(alice, bobStore, Buffer.from(messages[i].message, 'hex'));
    if (hex(pt) !== messages[i].plaintext) throw new Error(`message ${i} did not round-trip`);
  }

  // Refused cases, each checked against a fresh libsignal-client receiver.
  const base = Buffer.from(messages[0].message, 'hex');
  const flip = (at, bit) => {
    const b = Buffer.from(base);
    b[at] ^= bit;
    return b;
  };
  const candidates = [
    { description: 'signature: bit 0 of byte 0 flipped', message: flip(base.length - 64, 0x01) },
    { description: 'signature: the sign bit (bit 7 of byte 63) flipped', message: flip(base.length - 1, 0x80) },
    { description: 'ciphertext: last byte flipped', message: flip(base.length - 65, 0x01) },
    { description: 'distribution id: first byte flipped', message: flip(3, 0x01) },
    { description: 'iteration changed from 0 to 1', message: flip(base.indexOf(0x18, 19) + 1, 0x01) },
    { description: 'version byte 0x23 (legacy)', message: (() => { const b = Buffer.from(base); b[0] = 0x23; return b; })() },
    { description: 'version byte 0x43 (unknown)', message: (() => { const b = Buffer.from(base); b[0] = 0x43; return b; })() },
    { description: 'truncated by one byte', message: base.subarray(0, base.length - 1) },
  ];
  const rejected = [];
  for (const c of candidates) {
    const fresh = new MemorySenderKeyStore();
    await SignalClient.processSenderKeyDistributionMessage(alice, skdm, fresh);
    try {
      await SignalClient.groupDecrypt(alice, fresh, c.message);
      throw new Error(`libsignal-client accepted: ${c.description}`);
    } catch (e) {
      if (String(e.message).startsWith('libsignal-client accepted')) throw e;
      rejected.push({ description: c.description, message: hex(c.message), libsignal_error: String(e.message) });
    }
  }

  const file = {
    source: `@signalapp/libsignal-client ${pkg.version} (npm), driven by interop/node/gen_sender_key_vectors.js`,
    description:
      'One sender (alice, device 1) in current libsignal\'s sender-key layout: its SenderKeyDistributionMessage at ' +
      'iteration 0, messages at iterations 0..8 with the listed plaintexts, a later SKDM at iteration 9, and a ' +
      'message at iteration 39 after 30 unrecorded ones. Every message was decrypted by a second ' +
      'libsignal-client store (the jump first, then the rest in reverse order); every rejected case was refused ' +
      'by a fresh libsignal-client receiver with the recorded error. Signatures are randomized (XEdDSA with a ' +
      'random nonce), so they cannot be recomputed, only verified.',
    distribution_id: distributionId,
    skdm: {
      bytes: hex(skdm.serialize()),
      chain_id: skdm.chainId(),
      iteration: skdm.iteration(),
      chain_key: hex(skdm.chainKey()),
    },
    later_skdm: {
      bytes: hex(later.serialize()),
      chain_id: later.chainId(),
      iteration: later.iteration(),
      chain_key: hex(later.chainKey()),
    },
    messages,
    delivery_order: order,
    rejected,
  };
  fs.writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
  process.stdout.write(`wrote ${messages.length} messages and ${rejected.length} rejected cases to ${out}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
