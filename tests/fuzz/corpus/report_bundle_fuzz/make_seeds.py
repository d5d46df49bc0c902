#!/usr/bin/python3
# Writes the seed bundles of tests/fuzz/report_bundle_fuzz.cc with an implementation
# independent of Bulwark's (Debian python3-jwt for the EARs, python3-cryptography for the
# detached JWS), from the format in docs/reports.md. Signed with the fixed test-only key
# that the fuzz target and tests/unit/report/report_bundle_test.cc (PythonMadeBundle) use.
# Run: /usr/bin/python3 tests/fuzz/corpus/report_bundle_fuzz/make_seeds.py
import base64, hashlib, json, os
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

KEY_PEM = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFvR6tMzaIa85uIvA
GhONElYvibJwePoolBYWKeOQXJWhRANCAATsjag2D/Eq6HHh6GVGwatgPpSO3nxD
JxetUoiuz3+7BHh+dStxQoeHKeKND9j1MkV5Qqk+q2gZvg0+awqx/5kH
-----END PRIVATE KEY-----
"""
key = serialization.load_pem_private_key(KEY_PEM, password=None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


nums = key.public_key().public_numbers()
jwk = {"crv": "P-256", "kty": "EC", "x": b64(nums.x.to_bytes(32, "big")), "y": b64(nums.y.to_bytes(32, "big"))}
kid = b64(hashlib.sha256(canonical(jwk).encode()).digest())  # RFC 7638


def ear(node, a):
    claims = {
        "eat_profile": "tag:github.com,2023:veraison/ear",
        "iat": a["appraised_at_unix_ms"] // 1000,
        "exp": a["fresh_until_unix_ms"] // 1000,
        "ear.verifier-id": {"developer": "https://github.com/bulwark", "build": "make_seeds.py"},
        "submods": {node: {"ear.status": a["status"], "ear.trustworthiness-vector": a["trust_vector"],
                           "ear.appraisal-policy-id": "bulwark:policy:v%d" % a["policy_version"]}},
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def appraisal(i, status, vector):
    at = 1714564800000 + i * 60000
    return {"appraisal_id": i, "appraised_at_unix_ms": at, "fresh_until_unix_ms": at + 600000,
            "status": status, "policy_version": 3, "trust_vector": vector,
            "evidence_sha256": hashlib.sha256(b"evidence %d" % i).hexdigest()}


def bundle(content):
    protected = b64(canonical({"alg": "ES256", "kid": kid, "typ": "bulwark.report-bundle"}).encode())
    signing_input = protected + "." + b64(canonical(content).encode())
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    sig = b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    doc = {"format": "bulwark.report-bundle", "version": 1, "content": content,
           "signature": protected + ".." + sig}
    return (canonical(doc) + "\n").encode()


def attestations(node, entries):
    out = []
    for a in entries:
        token = ear(node, a)
        a["ear_sha256"] = hashlib.sha256(token.encode()).hexdigest()
        out.append({"node": node, "appraisal_id": a["appraisal_id"], "ear": token,
                    "ear_sha256": a["ear_sha256"], "evidence_sha256": a["evidence_sha256"],
                    "policy_version": a["policy_version"]})
    return out


good = {"instance-identity": 2, "hardware": 2, "executables": 2, "file-system": 2,
        "configuration": 2, "sourced-data": 2}
timeline = [appraisal(1, "affirming", good),
            appraisal(2, "contraindicated", dict(good, executables=96)),
            appraisal(3, "affirming", good)]
node_atts = attestations("node-a", timeline)
node_report = {"kind": "bulwark.report.node", "version": 1, "generated_at_unix_ms": 1714565400000,
               "policy_version": 3, "node": {"name": "node-a", "state": "trusted"},
               "verdict": timeline[-1], "timeline": timeline}
fleet_entry = {"name": "node-a", "appraisal_id": 3, "status": "affirming", "policy_version": 3,
               "last_attestation_unix_ms": timeline[-1]["appraised_at_unix_ms"],
               "fresh_until_unix_ms": timeline[-1]["fresh_until_unix_ms"]}
fleet_report = {"kind": "bulwark.report.fleet", "version": 1, "generated_at_unix_ms": 1714565400000,
                "policy_version": 3, "counts": {"trusted": 1},
                "nodes": [fleet_entry, {"name": "node-b", "appraisal_id": None}]}
here = os.path.dirname(os.path.abspath(__file__))
seeds = {
    "node.json": {"scope": "node", "node": "node-a", "generated_at_unix_ms": 1714565400000,
                  "policy_version": 3, "report": node_report, "attestations": node_atts},
    "fleet.json": {"scope": "fleet", "node": None, "generated_at_unix_ms": 1714565400000,
                   "policy_version": 3, "report": fleet_report, "attestations": node_atts[-1:]},
}
for name, content in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(bundle(content))
with open(os.path.join(here, "jwks.json"), "w") as f:
    f.write(canonical({"keys": [dict(jwk, kid=kid, alg="ES256", use="sig")]}) + "\n")
