#!/usr/bin/env python3
"""Regenerates the CEL-JSON samples in this directory (see README.md).

Independent of Bulwark's C++ code on purpose: digests, canonical JSON and the PCR
replay below use only Python's hashlib/json, so the unit tests cross-check the C++
parser, replay, canonicalization and writer against a second implementation.

usage: python3 make_samples.py   (writes next to this file; deterministic)
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
RS, LF = b"\x1e", b"\n"
BOOT_ID = "6f1d2c3b4a5948e7b6c5d4e3f2a1b0c9"  # made up, 128 bits like sd_id128
MACHINE_ID = "0123456789abcdef0123456789abcdef"  # made up


def record(pcr, digests, content_type, content_text):
    """One RFC 7464 text, members in systemd's order: pcr, digests, content_type, content."""
    ds = ",".join('{"hashAlg":"%s","digest":"%s"}' % (a, d) for a, d in digests)
    body = '{"pcr":%d,"digests":[%s],"content_type":%s,"content":%s}' % (
        pcr, ds, json.dumps(content_type), content_text)
    return RS + body.encode() + LF


def systemd_record(pcr, word, event_type, timestamp, banks=("sha1", "sha256")):
    # systemd-pcrextend extends H_bank(word) for a plain word (no NUL, no secret) and logs
    # content {string, bootId, timestamp (CLOCK_BOOTTIME usec), eventType}.
    digests = [(b, hashlib.new(b, word.encode()).hexdigest()) for b in banks]
    content = ('{"string":%s,"bootId":"%s","timestamp":%d,"eventType":"%s"}'
               % (json.dumps(word), BOOT_ID, timestamp, event_type))
    return record(pcr, digests, "systemd", content), digests


def canonical(obj):
    # Bulwark canonical content: sorted keys, no whitespace, UTF-8 (docs/measurement-log.md).
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def bulwark_record(pcr, content, banks):
    text = canonical(content)
    digests = [(b, hashlib.new(b, text.encode()).hexdigest()) for b in banks]
    return record(pcr, digests, "bulwark", text), digests


def replay(extends):
    """extends: list of (pcr, [(bank, hexdigest)]) → {(bank, pcr): hex}."""
    state = {}
    for pcr, digests in extends:
        for bank, d in digests:
            old = state.get((bank, pcr), "00" * hashlib.new(bank).digest_size)
            state[(bank, pcr)] = hashlib.new(bank, bytes.fromhex(old + d)).hexdigest()
    return state


def write_expected(name, state):
    order = {"sha1": 0, "sha256": 1, "sha384": 2, "sha512": 3}
    lines = ["%s pcr%d 0x%s" % (b, p, v)
             for (b, p), v in sorted(state.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))]
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def systemd_sample():
    steps = [
        (11, "enter-initrd", "phase", 2351203),
        (15, "machine-id:" + MACHINE_ID, "machine-id", 4012877),
        (11, "leave-initrd", "phase", 6120455),
        (11, "sysinit", "phase", 6698120),
        (11, "ready", "phase", 9873310),
    ]
    data, extends = b"", []
    for pcr, word, event_type, ts in steps:
        rec, digests = systemd_record(pcr, word, event_type, ts)
        data += rec
        extends.append((pcr, digests))
    with open(os.path.join(HERE, "systemd-tpm2-measure.log"), "wb") as f:
        f.write(data)
    write_expected("systemd-tpm2-measure.expected", replay(extends))


BATCH_1 = [
    {"kind": "file", "subject": "/usr/bin/runc", "sha256": hashlib.sha256(b"runc 1.1.5").hexdigest()},
    {"kind": "file", "subject": "/usr/bin/containerd", "sha256": hashlib.sha256(b"containerd").hexdigest()},
]
BATCH_2 = [
    {"kind": "image", "subject": "registry.example/app@sha256:" + "ab" * 32,
     "sha256": "ab" * 32},
]


def bulwark_sample():
    banks = ("sha1", "sha256")
    start = {"version": 1, "event": "log-start", "boot_id": BOOT_ID}
    data = record(15, [], "bulwark", canonical(start))
    extends = []
    for batch in (BATCH_1, BATCH_2):
        rec, digests = bulwark_record(15, {"version": 1, "event": "batch", "batch": batch}, banks)
        data += rec
        extends.append((15, digests))
    with open(os.path.join(HERE, "bulwark-measure.log"), "wb") as f:
        f.write(data)
    write_expected("bulwark-measure.expected", replay(extends))


if __name__ == "__main__":
    systemd_sample()
    bulwark_sample()
