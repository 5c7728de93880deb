// Times matrix-js-sdk 43's recovery-key, passphrase and secret-storage operations, the peer figures
// for benches/backup_secrets.rs (compare by hand). Not run by CI:
//
//   (cd interop/node && node bench_passphrase.js)
//
// Each figure is the median of single-operation timings (process.hrtime.bigint around one awaited
// call). js-sdk does its cryptography through WebCrypto (Node's OpenSSL), so the figures include the
// promise and the crossing into native code that every js-sdk caller pays.
'use strict';

function median(xs) {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[Math.floor(s.length / 2)];
}

function fmt(ns) {
  const n = Number(ns);
  return n >= 1e6 ? `${(n / 1e6).toFixed(3)} ms` : `${(n / 1e3).toFixed(2)} µs`;
}

async function time(label, runs, op) {
  for (let i = 0; i < Math.min(runs, 50); i++) await op(); // warm-up
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    samples.push(process.hrtime.bigint() - t0);
  }
  console.log(`${label.padEnd(34)} ${fmt(median(samples)).padStart(12)}  (median of ${runs})`);
}

async function main() {
  const { encodeRecoveryKey, decodeRecoveryKey } = await import('matrix-js-sdk/lib/crypto-api/recovery-key.js');
  const { deriveRecoveryKeyFromPassphrase } = await import('matrix-js-sdk/lib/crypto-api/key-passphrase.js');
  const encrypt = (await import('matrix-js-sdk/lib/utils/encryptAESSecretStorageItem.js')).default;
  const decrypt = (await import('matrix-js-sdk/lib/utils/decryptAESSecretStorageItem.js')).default;
  const { ServerSideSecretStorageImpl, calculateKeyCheck } = await import('matrix-js-sdk/lib/secret-storage.js');

  await time('pbkdf2-500000/js-sdk', 10, () =>
    deriveRecoveryKeyFromPassphrase('correct horse battery staple', 'IuLnH7S85YtZmkkBJKwNUKxWF42g9O1H', 500000));

  const key = new Uint8Array(32).fill(0x5a);
  const text = encodeRecoveryKey(key);
  await time('recovery-key-encode/js-sdk', 20000, () => encodeRecoveryKey(key));
  await time('recovery-key-decode/js-sdk', 20000, () => decodeRecoveryKey(text));

  const ssssKey = new Uint8Array(32).fill(0x11);
  const secret = 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo';
  const item = await encrypt(secret, ssssKey, 'm.megolm_backup.v1');
  await time('ssss-encrypt/js-sdk', 5000, () => encrypt(secret, ssssKey, 'm.megolm_backup.v1'));
  await time('ssss-decrypt/js-sdk', 5000, () => decrypt(item, ssssKey, 'm.megolm_backup.v1'));

  const check = await calculateKeyCheck(ssssKey);
  const info = { algorithm: 'm.secret_storage.v1.aes-hmac-sha2', iv: check.iv, mac: check.mac };
  const ss = new ServerSideSecretStorageImpl({}, {});
  await time('key-check/js-sdk', 5000, async () => {
    if (!(await ss.checkKey(ssssKey, info))) throw new Error('key check failed');
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
