#!/usr/bin/env python3
"""Known-answer vectors for tests/unit/credential/*_test.cc.

Written directly from the TPM 2.0 Part 1 formulas with Python's hashlib/hmac and
pyca/cryptography (AES-CFB, ECC point arithmetic), i.e. independently of
OpenSSL's KBKDF/SSKDF providers that attest/credential uses:

  KDFa (Part 1 §11.4.10.2): K(i) = HMAC(key, [i]_32 || label || 0x00 || U || V || [bits]_32)
  KDFe (Part 1 §11.4.10.3): K(i) = H([i]_32 || Z || use || 0x00 || PartyU || PartyV)
  credential protection (Part 1 §24.4, §24.5), ECC secret sharing (Part 1 Annex C.6)

Run: python3 tests/unit/credential/vectors.py   (prints C++ initialisers)
"""
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def kdfa(alg, key, label, u, v, bits):
    out, i = b"", 1
    while len(out) * 8 < bits:
        msg = i.to_bytes(4, "big") + label + b"\0" + u + v + bits.to_bytes(4, "big")
        out += hmac.new(key, msg, alg).digest()
        i += 1
    return out[: bits // 8]


def kdfe(alg, z, use, pu, pv, bits):
    out, i = b"", 1
    while len(out) * 8 < bits:
        out += hashlib.new(alg, i.to_bytes(4, "big") + z + use + b"\0" + pu + pv).digest()
        i += 1
    return out[: bits // 8]


def tpm2b(b):
    return len(b).to_bytes(2, "big") + b


def protect(alg, sym_bits, seed, name, secret):
    sym = kdfa(alg, seed, b"STORAGE", name, b"", sym_bits)
    enc = Cipher(algorithms.AES(sym), modes.CFB(bytes(16))).encryptor()
    enc_identity = enc.update(tpm2b(secret)) + enc.finalize()
    hkey = kdfa(alg, seed, b"INTEGRITY", b"", b"", hashlib.new(alg).digest_size * 8)
    outer = hmac.new(hkey, enc_identity + name, alg).digest()
    return tpm2b(tpm2b(outer) + enc_identity)


def ecc_make_credential(curve, size, alg, sym_bits, ek_priv, eph_priv, name, secret):
    ek = ec.derive_private_key(ek_priv, curve).public_key().public_numbers()
    eph = ec.derive_private_key(eph_priv, curve)
    eph_pub = eph.public_key().public_numbers()
    z = eph.exchange(ec.ECDH(), ec.derive_private_key(ek_priv, curve).public_key())
    ex, ey = ek.x.to_bytes(size, "big"), ek.y.to_bytes(size, "big")
    qx, qy = eph_pub.x.to_bytes(size, "big"), eph_pub.y.to_bytes(size, "big")
    seed = kdfe(alg, z, b"IDENTITY", qx, ex, hashlib.new(alg).digest_size * 8)
    return ex, ey, tpm2b(tpm2b(qx) + tpm2b(qy)), protect(alg, sym_bits, seed, name, secret)


def show(label, b):
    print(f'  // {label}\n  "{b.hex()}",')


key32 = bytes(range(32))
key48 = bytes(range(48))
name = bytes.fromhex("000b") + hashlib.sha256(b"ak").digest()
print("KDFa")
show("sha256 STORAGE name 128", kdfa("sha256", key32, b"STORAGE", name, b"", 128))
show("sha256 INTEGRITY 256", kdfa("sha256", key32, b"INTEGRITY", b"", b"", 256))
show("sha384 STORAGE 0102|03 640", kdfa("sha384", key48, b"STORAGE", b"\1\2", b"\3", 640))
show("sha1 XYZ ''|name 160", kdfa("sha1", key32[:20], b"XYZ", b"", name, 160))
print("KDFe")
show("sha256 256", kdfe("sha256", b"\x11" * 32, b"IDENTITY", b"\x22" * 32, b"\x33" * 32, 256))
show("sha384 384", kdfe("sha384", b"\x11" * 48, b"IDENTITY", b"\x22" * 48, b"\x33" * 48, 384))
show("sha256 520", kdfe("sha256", b"\x44" * 32, b"IDENTITY", b"", b"\x55", 520))
print("protect")
secret = b"bulwark-known-answer"
show("sha256 aes128 seed=a5*32", protect("sha256", 128, b"\xa5" * 32, name, secret))
show("sha384 aes256 seed=5a*48", protect("sha384", 256, b"\x5a" * 48, name, secret))
print("ECC makeCredential")
p256 = ecc_make_credential(ec.SECP256R1(), 32, "sha256", 128,
                           0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721,
                           0x0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20,
                           name, secret)
for label, b in zip(("P-256 EK x", "EK y", "encrypted_secret", "id_object"), p256):
    show(label, b)
p384 = ecc_make_credential(ec.SECP384R1(), 48, "sha384", 256,
                           int("6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D8"
                               "96D5724E4C70A825F872C9EA60D2EDF5", 16),
                           int.from_bytes(bytes(range(1, 49)), "big"), name, secret)
for label, b in zip(("P-384 EK x", "EK y", "encrypted_secret", "id_object"), p384):
    show(label, b)
