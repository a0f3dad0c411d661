#!/usr/bin/env python3
"""Verify a promobot promotion attestation without promobot.

Checks a Sigstore bundle (v0.3, DSSE envelope, public-key hint) written by
promobot: that a trusted ECDSA P-256 key signed it, that it is a promotion
statement for the expected repository (and, when given, environment, model,
version, manifest blob and merge commit), and that the artifact's sha256
matches the attested one.

Needs only the standard library and `cryptography` (any release from 38, as
shipped by Debian 12 as python3-cryptography, to current).

    verify_attestation.py --bundle B.sigstore.json --public-key bot.pub \
        --repository example-org/models-gitops --artifact model.onnx

Keys: --public-key PEM trusts a PEM key under its fingerprint
(sha256:<hex of its DER SubjectPublicKeyInfo>); --key-vault-key ID=PEM trusts
a Key Vault key version (ID is https://<vault>/keys/<name>/<version>, PEM its
public half, e.g. from `az keyvault key download --encoding PEM`). The
--baseline-* forms trust a key for baseline attestations only; other keys
are trusted for merge attestations only, as promobot does.

Exit status: 0 verified, 1 refused, 2 usage or unreadable input.
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://github.com/example-org/promobot/attestation/promotion/v1"


class Refused(Exception):
    """The attestation does not verify; the message says why."""


def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Refused("duplicate JSON key %r" % key)
        obj[key] = value
    return obj


def load_json(data, what):
    try:
        return json.loads(data, object_pairs_hook=no_duplicates)
    except ValueError as err:
        raise Refused("%s is not JSON: %s" % (what, err))


def b64decode(text, what):
    if not isinstance(text, str):
        raise Refused("%s is not a base64 string" % what)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("%s is not valid base64" % what)


def load_key(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("%s is not an ECDSA P-256 public key" % path)
    return key


def fingerprint(key):
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def pae(payload_type, payload):
    """DSSE pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def verify(bundle_bytes, trusted, expect, artifact_sha256):
    """Return the predicate of a bundle that verifies, or raise Refused."""
    bundle = load_json(bundle_bytes, "the bundle")
    if not isinstance(bundle, dict) or bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise Refused("the bundle's media type is not %s" % BUNDLE_MEDIA_TYPE)
    hint = ((bundle.get("verificationMaterial") or {}).get("publicKey") or {}).get("hint")
    if not hint:
        raise Refused("the bundle names no public key")
    env = bundle.get("dsseEnvelope")
    if not isinstance(env, dict):
        raise Refused("the bundle holds no DSSE envelope")
    if env.get("payloadType") != PAYLOAD_TYPE:
        raise Refused("the payload type is %r, expected %r" % (env.get("payloadType"), PAYLOAD_TYPE))
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or len(sigs) != 1:
        raise Refused("the envelope must hold exactly one signature")
    keyid = sigs[0].get("keyid", "")
    if keyid and keyid != hint:
        raise Refused("the signature names key %r but the bundle names %r" % (keyid, hint))
    if hint not in trusted:
        raise Refused("signed by key %s, which is not trusted" % hint)
    key, baseline_key = trusted[hint]
    payload = b64decode(env.get("payload"), "the payload")
    sig = b64decode(sigs[0].get("sig"), "the signature")
    try:
        key.verify(sig, pae(PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("the signature does not verify with trusted key %s" % hint)

    st = load_json(payload, "the statement")
    if st.get("_type") != STATEMENT_TYPE:
        raise Refused("the statement type is %r, expected %r" % (st.get("_type"), STATEMENT_TYPE))
    if st.get("predicateType") != PREDICATE_TYPE:
        raise Refused("the predicate type is %r, expected %r" % (st.get("predicateType"), PREDICATE_TYPE))
    subjects = st.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 2:
        raise Refused("the statement must have two subjects: the artifact and the manifest")
    art, man = subjects
    if list((art.get("digest") or {}).keys()) != ["sha256"] or list((man.get("digest") or {}).keys()) != ["gitBlob"]:
        raise Refused("the subjects are not an artifact (sha256) and a manifest (gitBlob)")
    pred = st.get("predicate")
    if not isinstance(pred, dict):
        raise Refused("the statement has no predicate")
    if man.get("name") != pred.get("manifestPath"):
        raise Refused("the manifest subject does not name the predicate's manifest path")

    is_baseline = pred.get("baseline") is True
    if is_baseline and not baseline_key:
        raise Refused("a baseline attestation is signed by key %s, which is not a baseline key" % hint)
    if not is_baseline and baseline_key:
        raise Refused("key %s is trusted for baseline attestations only" % hint)

    checks = [("repository", str(pred.get("repository", "")).lower(), expect["repository"].lower())]
    for field in ("environment", "model", "version"):
        checks.append((field, pred.get(field), expect.get(field)))
    checks.append(("manifest blob", man["digest"]["gitBlob"], expect.get("manifest_blob")))
    checks.append(("merge commit", (pred.get("commits") or {}).get("merge"), expect.get("merge_commit")))
    checks.append(("artifact sha256", art["digest"]["sha256"], artifact_sha256))
    for what, got, want in checks:
        if want is not None and got != want:
            raise Refused("the attestation is for %s %r, expected %r" % (what, got, want))
    return pred


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    p = argparse.ArgumentParser(description="Verify a promobot promotion attestation.")
    p.add_argument("--bundle", required=True, help="the .sigstore.json bundle")
    p.add_argument("--public-key", action="append", default=[], metavar="PEM", help="trust a PEM public key")
    p.add_argument("--key-vault-key", action="append", default=[], metavar="ID=PEM", help="trust a Key Vault key version")
    p.add_argument("--baseline-public-key", action="append", default=[], metavar="PEM", help="trust a PEM key for baseline attestations")
    p.add_argument("--baseline-key-vault-key", action="append", default=[], metavar="ID=PEM", help="trust a Key Vault key version for baseline attestations")
    p.add_argument("--repository", required=True, help="the expected repository, owner/name")
    p.add_argument("--environment")
    p.add_argument("--model")
    p.add_argument("--version")
    p.add_argument("--manifest-blob", help="the expected git blob id of the manifest")
    p.add_argument("--merge-commit", help="the expected merge commit")
    art = p.add_mutually_exclusive_group(required=True)
    art.add_argument("--artifact", metavar="FILE", help="the artifact file to hash")
    art.add_argument("--artifact-sha256", metavar="HEX", help="the artifact's sha256")
    args = p.parse_args(argv)

    try:
        trusted = {}
        for baseline, pems, kv in ((False, args.public_key, args.key_vault_key), (True, args.baseline_public_key, args.baseline_key_vault_key)):
            for path in pems:
                key = load_key(path)
                trusted[fingerprint(key)] = (key, baseline)
            for item in kv:
                kid, sep, path = item.partition("=")
                if not sep or not kid.startswith("https://") or "/keys/" not in kid:
                    raise ValueError("--key-vault-key wants https://<vault>/keys/<name>/<version>=<pem file>, got %r" % item)
                trusted[kid] = (load_key(path), baseline)
        if not trusted:
            raise ValueError("give at least one trusted key")
        digest = args.artifact_sha256.lower() if args.artifact_sha256 else sha256_file(args.artifact)
        with open(args.bundle, "rb") as f:
            bundle = f.read()
    except (OSError, ValueError) as err:
        print("error: %s" % err, file=sys.stderr)
        return 2

    expect = {"repository": args.repository, "environment": args.environment, "model": args.model,
              "version": args.version, "manifest_blob": args.manifest_blob, "merge_commit": args.merge_commit}
    try:
        pred = verify(bundle, trusted, expect, digest)
    except Refused as err:
        print("REFUSED: %s" % err)
        return 1
    except (AttributeError, TypeError, KeyError) as err:
        print("REFUSED: the bundle is not the format promobot writes (%s)" % err)
        return 1
    print("OK: %s %s %s in %s, merged as %s" % (pred["model"], pred["version"], pred["environment"],
                                                pred["repository"], pred["commits"]["merge"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
