// Times @signalapp/libsignal-client's sender-key operations for the sizes benches/signal_group.rs
// uses, so that the two can be compared by hand. Not run by CI:
//
//   (cd interop/node && node bench_group.js)
//
// Each figure is the median of many single-operation timings (process.hrtime.bigint around one
// awaited call), so it includes the N-API crossing and the in-memory store's record
// (de)serialization, which every libsignal-client caller pays.
'use strict';

const SignalClient = require('@signalapp/libsignal-client');

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

function median(xs) {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[Math.floor(s.length / 2)];
}

function fmt(ns) {
  const n = Number(ns);
  return n >= 1e6 ? `${(n / 1e6).toFixed(3)} ms` : `${(n / 1e3).toFixed(2)} µs`;
}

async function time(label, runs, setup, op) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const input = await setup(i);
    const t0 = process.hrtime.bigint();
    await op(input);
    samples.push(process.hrtime.bigint() - t0);
  }
  process.stdout.write(`${label.padEnd(36)} median ${fmt(median(samples))} over ${runs}\n`);
}

async function main() {
  const alice = SignalClient.ProtocolAddress.new('alice', 1);
  let n = 0;
  const fresh = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

  await time('create + SKDM (new distribution)', 2000, () => ({ id: fresh(), store: new MemorySenderKeyStore() }),
    ({ id, store }) => SignalClient.SenderKeyDistributionMessage.create(alice, id, store));

  const id = fresh();
  const senderStore = new MemorySenderKeyStore();
  const skdm = await SignalClient.SenderKeyDistributionMessage.create(alice, id, senderStore);
  const skdmBytes = skdm.serialize();
  await time('SKDM process (deserialize + store)', 2000, () => new MemorySenderKeyStore(),
    (store) => SignalClient.processSenderKeyDistributionMessage(
      alice, SignalClient.SenderKeyDistributionMessage.deserialize(skdmBytes), store));

  const receiver = new MemorySenderKeyStore();
  await SignalClient.processSenderKeyDistributionMessage(alice, skdm, receiver);
  for (const size of [100, 16 * 1024]) {
    const pt = new Uint8Array(size).fill(0x61);
    await time(`groupEncrypt ${size} B`, 3000, () => null,
      () => SignalClient.groupEncrypt(alice, id, senderStore, pt));
    // Re-sync the receiver: a fresh distribution at the sender's current iteration.
    const again = await SignalClient.SenderKeyDistributionMessage.create(alice, id, senderStore);
    const recv = new MemorySenderKeyStore();
    await SignalClient.processSenderKeyDistributionMessage(alice, again, recv);
    await time(`groupDecrypt ${size} B (in order)`, 3000,
      async () => (await SignalClient.groupEncrypt(alice, id, senderStore, pt)).serialize(),
      (m) => SignalClient.groupDecrypt(alice, recv, m));
  }

  // A jump of 1000: a fresh receiver reads the message 1000 iterations ahead.
  const jumpId = fresh();
  const jumpStore = new MemorySenderKeyStore();
  const jumpSkdm = (await SignalClient.SenderKeyDistributionMessage.create(alice, jumpId, jumpStore)).serialize();
  for (let i = 0; i < 1000; i++) {
    await SignalClient.groupEncrypt(alice, jumpId, jumpStore, new Uint8Array(0));
  }
  const far = (await SignalClient.groupEncrypt(alice, jumpId, jumpStore, new Uint8Array(100).fill(0x61))).serialize();
  await time('groupDecrypt after a jump of 1000', 300, async () => {
    const store = new MemorySenderKeyStore();
    await SignalClient.processSenderKeyDistributionMessage(
      alice, SignalClient.SenderKeyDistributionMessage.deserialize(jumpSkdm), store);
    return store;
  }, (store) => SignalClient.groupDecrypt(alice, store, far));
  process.stdout.write(`@signalapp/libsignal-client ${require('@signalapp/libsignal-client/package.json').version}, node ${process.version}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
