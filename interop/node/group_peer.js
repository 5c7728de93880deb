// A test peer for safemeet's Signal sender keys and XEdDSA signatures, driving
// @signalapp/libsignal-client. Never part of the crate.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout. Byte strings are
// lowercase hex. Every request may name a `store` (default "default"): each store is a separate
// in-memory SenderKeyStore, i.e. a separate device. Errors never end the process; they come back as
// {"error": "..."} so that a test can assert that something was refused.
//
// ops:
//   create_skdm   {store, sender, device, distribution}          -> {skdm}
//   process_skdm  {store, sender, device, skdm}                  -> {ok: true}
//   encrypt       {store, sender, device, distribution, plaintexts: [hex], keep?: [index]}
//                                                                -> {messages: [hex]} (only `keep` if given)
//   decrypt       {store, sender, device, messages: [hex]}       -> {results: [{plaintext} | {error}]}
//   record        {store, sender, device, distribution}          -> {record}  (SenderKeyRecord.serialize)
//   sign          {private?: hex32, messages: [hex]}             -> {public, private, signatures: [hex]}
//   verify        {public: hex33, items: [{message, signature}]} -> {valid: [bool]}
//   quit                                                         -> (exits)
'use strict';

const readline = require('node:readline');
const SignalClient = require('@signalapp/libsignal-client');

const hex = (b) => Buffer.from(b).toString('hex');
const bytes = (h) => new Uint8Array(Buffer.from(h, 'hex'));

class MemorySenderKeyStore extends SignalClient.SenderKeyStore {
  constructor() {
    super();
    this.records = new Map();
  }
  static key(sender, distributionId) {
    return `${sender.name()}.${sender.deviceId()}::${distributionId}`;
  }
  async saveSenderKey(sender, distributionId, record) {
    this.records.set(MemorySenderKeyStore.key(sender, distributionId), record.serialize());
  }
  async getSenderKey(sender, distributionId) {
    const found = this.records.get(MemorySenderKeyStore.key(sender, distributionId));
    return found === undefined ? null : SignalClient.SenderKeyRecord.deserialize(found);
  }
}

const stores = new Map();
function store(name) {
  const key = name || 'default';
  if (!stores.has(key)) stores.set(key, new MemorySenderKeyStore());
  return stores.get(key);
}

function address(req) {
  return SignalClient.ProtocolAddress.new(req.sender || 'sender', req.device || 1);
}

async function handle(req) {
  switch (req.op) {
    case 'create_skdm': {
      const skdm = await SignalClient.SenderKeyDistributionMessage.create(
        address(req), req.distribution, store(req.store));
      return { skdm: hex(skdm.serialize()) };
    }
    case 'process_skdm': {
      const skdm = SignalClient.SenderKeyDistributionMessage.deserialize(bytes(req.skdm));
      await SignalClient.processSenderKeyDistributionMessage(address(req), skdm, store(req.store));
      return { ok: true };
    }
    case 'encrypt': {
      const keep = req.keep ? new Set(req.keep) : null;
      const messages = [];
      for (let i = 0; i < req.plaintexts.length; i++) {
        const m = await SignalClient.groupEncrypt(
          address(req), req.distribution, store(req.store), bytes(req.plaintexts[i]));
        if (m.type() !== SignalClient.CiphertextMessageType.SenderKey) {
          throw new Error(`unexpected message type ${m.type()}`);
        }
        if (keep === null || keep.has(i)) messages.push(hex(m.serialize()));
      }
      return { messages };
    }
    case 'encrypt_count': {
      // `count` messages with plaintext = `prefix` + decimal index; returns those listed in `keep`.
      const keep = new Set(req.keep);
      const messages = [];
      for (let i = 0; i < req.count; i++) {
        const m = await SignalClient.groupEncrypt(
          address(req), req.distribution, store(req.store), new Uint8Array(Buffer.from(`${req.prefix}${i}`)));
        if (keep.has(i)) messages.push(hex(m.serialize()));
      }
      return { messages };
    }
    case 'decrypt': {
      const results = [];
      for (const m of req.messages) {
        try {
          const pt = await SignalClient.groupDecrypt(address(req), store(req.store), bytes(m));
          results.push({ plaintext: hex(pt) });
        } catch (e) {
          results.push({ error: String(e && e.message ? e.message : e) });
        }
      }
      return { results };
    }
    case 'record': {
      const rec = await store(req.store).getSenderKey(address(req), req.distribution);
      return { record: rec === null ? null : hex(rec.serialize()) };
    }
    case 'sign': {
      const key = req.private
        ? SignalClient.PrivateKey.deserialize(bytes(req.private))
        : SignalClient.PrivateKey.generate();
      return {
        public: hex(key.getPublicKey().serialize()),
        private: hex(key.serialize()),
        signatures: req.messages.map((m) => hex(key.sign(bytes(m)))),
      };
    }
    case 'verify': {
      const key = SignalClient.PublicKey.deserialize(bytes(req.public));
      return { valid: req.items.map((it) => key.verify(bytes(it.message), bytes(it.signature))) };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      process.stdout.write(JSON.stringify({ error: `bad request: ${e.message}` }) + '\n');
      continue;
    }
    if (req.op === 'quit') {
      rl.close();
      process.exit(0);
    }
    let res;
    try {
      res = await handle(req);
    } catch (e) {
      res = { error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(res) + '\n');
  }
}

main().then(() => process.exit(0)).catch((e) => {
  process.stderr.write(`group_peer: ${e.stack || e}\n`);
  process.exit(1);
});
