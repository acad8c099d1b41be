//! The one rule by which an operation's Ed25519 signature is accepted, whether it is
//! verified alone or in a batch.
//!
//! A signature `(R, s)` by key `A` on a message `M` is accepted when `s` is canonical
//! (below the group order), `R` is canonically encoded, neither `R` nor `A` is of small
//! order, and the cofactored equation `[8]([s]B - R - [k]A) = 0` holds, with `k` the
//! SHA-512 challenge of `R`, `A` and `M` (RFC 8032; the cofactored equation is ZIP-215's).
//!
//! Why cofactored: a batch check of many signatures at once is only sound with the
//! cofactor. Without it, a signer can put a small torsion component into its own `R` that
//! single verification refuses and a batch accepts whenever the batch's weight for it
//! happens to cancel that component, and the weights derive from the batch, so the signer
//! can search for them. Replicas that receive the same operation alone and in a batch
//! would then disagree about it. With the cofactor, a torsion component does not count on
//! either path, and both decide alike.
//!
//! Third parties gain nothing from it: changing `R` changes `k`, so a new `s` takes the
//! secret key.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha512};

/// Whether `signature` is `key`'s signature of `message` under the rule of this module.
///
/// The plain check of `ed25519_dalek` accepts every signature made as RFC 8032 makes
/// them: it compares `R` as encoded with the canonical encoding of the point it computes,
/// so `R` is canonical once it passes, and of small order exactly when its bytes are one
/// of the eight encodings of such points. Only a signature it refuses (a forgery, or one
/// with a torsion component) pays for the cofactored check as well.
pub(crate) fn verify(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    if verify_plainly(key, message, signature) {
        return true;
    }
    Checkable::new(key, message, signature).is_some_and(|checkable| {
        let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(
            &checkable.challenge,
            &-checkable.key,
            &checkable.s,
        );
        (expected - checkable.r).mul_by_cofactor().is_identity()
    })
}

/// Whether `signature` is `key`'s signature of `message` as RFC 8032 makes them, without
/// a torsion component: what [`verify`] accepts without its cofactored check. Enough to
/// tell which device signed a refused operation, at half the cost of [`verify`] on a
/// signature it refuses.
pub(crate) fn verify_plainly(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify(message, signature).is_ok()
        && !key.is_weak()
        && !small_order_encodings().contains(signature.r_bytes())
}

/// Whether the equation holds for every signature of `batch`, checked together: one
/// multiscalar multiplication for all, with random weights, about half the cost of
/// checking each. Decides as [`verify`] on each would, except with probability 2^-128
/// for a batch holding a signature that `verify` refuses. The weights derive from the
/// whole batch (Fiat-Shamir): no one can choose a batch knowing them.
pub(crate) fn verify_batch(batch: &[Checkable]) -> bool {
    let mut transcript = blake3::Hasher::new_derive_key("crdtype 2026 batch verification");
    for checkable in batch {
        transcript.update(&checkable.signature);
        transcript.update(&checkable.key_bytes);
        transcript.update(checkable.challenge.as_bytes());
    }
    let mut weights = transcript.finalize_xof();
    let mut basepoint = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(2 * batch.len());
    let mut points = Vec::with_capacity(2 * batch.len());
    for checkable in batch {
        let mut weight = [0; 16];
        weights.fill(&mut weight);
        let weight = Scalar::from(u128::from_le_bytes(weight));
        basepoint += weight * checkable.s;
        scalars.extend([-weight, -(weight * checkable.challenge)]);
        points.extend([checkable.r, checkable.key]);
    }
    // The sum over the batch of the weighted [s]B - R - [k]A.
    let sum = EdwardsPoint::vartime_multiscalar_mul(
        std::iter::once(basepoint).chain(scalars),
        std::iter::once(ED25519_BASEPOINT_POINT).chain(points),
    );
    sum.mul_by_cofactor().is_identity()
}

/// A signature whose form passes the rule (`s` canonical, `R` canonically encoded and of
/// large order, the key not weak), as curve points and scalars, ready for the equation
/// alone or in a batch.
pub(crate) struct Checkable {
    signature: [u8; 64],
    key_bytes: [u8; 32],
    r: EdwardsPoint,
    s: Scalar,
    key: EdwardsPoint,
    /// `k`: SHA-512 of `R`, the key and the message, reduced.
    challenge: Scalar,
}

impl Checkable {
    /// `signature` by `key` of `message`, if its form passes the rule.
    pub(crate) fn new(key: &VerifyingKey, message: &[u8], signature: &Signature) -> Option<Self> {
        let s = Option::from(Scalar::from_canonical_bytes(*signature.s_bytes()))?;
        let r_bytes = signature.r_bytes();
        if key.is_weak()
            || !canonical_encoding(r_bytes)
            || small_order_encodings().contains(r_bytes)
        {
            return None;
        }
        let r = CompressedEdwardsY(*r_bytes).decompress()?;
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.as_bytes())
            .chain_update(message)
            .finalize()
            .into();
        Some(Self {
            signature: signature.to_bytes(),
            key_bytes: key.to_bytes(),
            r,
            s,
            key: key.to_edwards(),
            challenge: Scalar::from_bytes_mod_order_wide(&digest),
        })
    }
}

/// Whether `bytes` are the one encoding of the point they decode to, if any: `y` (the low
/// 255 bits) below the field's prime 2^255 - 19, and the sign bit clear where `x` is 0
/// (`y` is 1 or -1).
fn canonical_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    let sign = bytes[31] >> 7;
    // y >= 2^255 - 19 exactly when y's bytes are ed..ff ff..ff 7f, little-endian.
    let at_least_prime = y[0] >= 0xed && y[1..31].iter().all(|byte| *byte == 0xff) && y[31] == 0x7f;
    let one = y[0] == 1 && y[1..].iter().all(|byte| *byte == 0);
    let minus_one = y[0] == 0xec && y[1..31].iter().all(|byte| *byte == 0xff) && y[31] == 0x7f;
    !at_least_prime && !(sign == 1 && (one || minus_one))
}

/// The canonical encodings of the eight points of small order.
pub(crate) fn small_order_encodings() -> &'static [[u8; 32]; 8] {
    static ENCODINGS: std::sync::OnceLock<[[u8; 32]; 8]> = std::sync::OnceLock::new();
    ENCODINGS.get_or_init(|| EIGHT_TORSION.map(|point| point.compress().to_bytes()))
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::scalar::Scalar;
    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
    use proptest::prelude::*;
    use sha2::{Digest, Sha512};

    use super::{Checkable, canonical_encoding, small_order_encodings, verify, verify_batch};

    /// `key`'s signature of `message` with nonce `nonce` and `torsion` (a point of small
    /// order) added to `R`: what only the key's holder can make, accepted under the
    /// cofactored equation and refused by the plain one unless `torsion` is the identity.
    fn signed_with_torsion(
        key: &SigningKey,
        message: &[u8],
        nonce: Scalar,
        torsion: usize,
    ) -> Signature {
        let r = (ED25519_BASEPOINT_POINT * nonce + EIGHT_TORSION[torsion])
            .compress()
            .to_bytes();
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r)
            .chain_update(key.verifying_key().as_bytes())
            .chain_update(message)
            .finalize()
            .into();
        let s = nonce + Scalar::from_bytes_mod_order_wide(&digest) * key.to_scalar();
        Signature::from_bytes(&[r, s.to_bytes()].concat().try_into().unwrap())
    }

    /// Whether a batch of these signatures is accepted: each passes the rule's form and
    /// the equation holds for all, as `OpLog::verify_together` checks them.
    fn together(batch: &[(&[u8], Signature, VerifyingKey)]) -> bool {
        let checkable: Option<Vec<_>> = batch
            .iter()
            .map(|(message, signature, key)| Checkable::new(key, message, signature))
            .collect();
        checkable.is_some_and(|checkable| verify_batch(&checkable))
    }

    fn alone_and_together(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
        let alone = verify(key, message, signature);
        assert_eq!(
            alone,
            together(&[(message, *signature, *key)]),
            "a batch of one decides as verification alone"
        );
        alone
    }

    #[test]
    fn a_torsion_component_in_the_signers_own_r_is_accepted_alone_and_in_a_batch() {
        let signing = SigningKey::from_bytes(&[7; 32]);
        let key = signing.verifying_key();
        let honest = signing.sign(b"honest");
        for torsion in 0..8 {
            let signature = signed_with_torsion(&signing, b"message", Scalar::from(99u8), torsion);
            let plain = ed25519_dalek::Verifier::verify(&key, b"message", &signature).is_ok();
            assert_eq!(plain, torsion == 0, "the plain equation refuses torsion");
            assert!(alone_and_together(&key, b"message", &signature));
            assert!(together(&[
                (b"honest", honest, key),
                (b"message", signature, key),
            ]));
            // Another message under the same signature is refused on both paths.
            assert!(!alone_and_together(&key, b"other", &signature));
            assert!(!together(&[
                (b"honest", honest, key),
                (b"other", signature, key),
            ]));
        }
    }

    #[test]
    fn a_weak_key_or_a_small_order_r_is_refused_alone_and_in_a_batch() {
        // The identity as the key, and as `R` with `s` = 0: the plain equation holds for
        // every message, and only the strict checks refuse it.
        let identity = small_order_encodings()
            .iter()
            .find(|encoding| encoding[0] == 1 && encoding[1..].iter().all(|byte| *byte == 0))
            .copied()
            .expect("the identity is of small order");
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        let forged = Signature::from_bytes(&[identity, [0; 32]].concat().try_into().unwrap());
        assert!(ed25519_dalek::Verifier::verify(&weak, b"anything", &forged).is_ok());
        assert!(weak.verify_strict(b"anything", &forged).is_err());
        assert!(!alone_and_together(&weak, b"anything", &forged));
        // A strong key's signature whose `R` is the identity, with `s` = k·a: the plain
        // equation holds ([s]B = [k]A), and only the check of `R`'s order refuses it.
        let signing = SigningKey::from_bytes(&[7; 32]);
        let key = signing.verifying_key();
        let forged = signed_with_torsion(&signing, b"message", Scalar::ZERO, 0);
        assert_eq!(forged.r_bytes(), &identity);
        assert!(ed25519_dalek::Verifier::verify(&key, b"message", &forged).is_ok());
        assert!(key.verify_strict(b"message", &forged).is_err());
        assert!(!alone_and_together(&key, b"message", &forged));
        // Under a key of small order, `R` = [5]B and `s` = 5 meet the cofactored equation
        // for every message: only the check of the key refuses them.
        let five = Scalar::from(5u8);
        let r = (ED25519_BASEPOINT_POINT * five).compress().to_bytes();
        let any_message = Signature::from_bytes(&[r, five.to_bytes()].concat().try_into().unwrap());
        for point in EIGHT_TORSION {
            let weak = VerifyingKey::from_bytes(&point.compress().to_bytes()).unwrap();
            assert!(weak.is_weak());
            assert!(!alone_and_together(&weak, b"message", &any_message));
        }
        // Every small-order `R` as a signer would make it, and with other `s`.
        for torsion in 0..8 {
            let signature = signed_with_torsion(&signing, b"message", Scalar::ZERO, torsion);
            assert!(!alone_and_together(&key, b"message", &signature));
            for s in [[0; 32], [1; 32]] {
                let signature =
                    Signature::from_bytes(&[*signature.r_bytes(), s].concat().try_into().unwrap());
                assert!(!alone_and_together(&key, b"message", &signature));
                assert!(!alone_and_together(&weak, b"message", &signature));
            }
        }
    }

    #[test]
    fn a_non_canonical_r_or_s_is_refused_alone_and_in_a_batch() {
        let signing = SigningKey::from_bytes(&[7; 32]);
        let key = signing.verifying_key();
        let valid = signing.sign(b"message").to_bytes();
        // `s` + the group order: the same residue, not canonical.
        const ORDER: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut non_canonical = [0u8; 32];
        let mut carry = 0u16;
        for (index, (a, b)) in valid[32..].iter().zip(ORDER).enumerate() {
            let sum = u16::from(*a) + u16::from(b) + carry;
            non_canonical[index] = sum.to_le_bytes()[0];
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "s + the order fits 256 bits");
        assert_eq!(
            Scalar::from_bytes_mod_order(non_canonical).to_bytes(),
            valid[32..],
            "the same residue"
        );
        let signature = Signature::from_bytes(
            &[&valid[..32], &non_canonical[..]]
                .concat()
                .try_into()
                .unwrap(),
        );
        assert!(!alone_and_together(&key, b"message", &signature));
        // `R` = the identity encoded as y = p + 1, with `s` = k·a: it decodes, it is not
        // among the canonical small-order encodings, and the equation holds, so only the
        // check of the encoding refuses it.
        let mut r = [0xff; 32];
        r[0] = 0xee;
        r[31] = 0x7f;
        assert!(CompressedEdwardsY(r).decompress().is_some());
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r)
            .chain_update(key.as_bytes())
            .chain_update(b"message")
            .finalize()
            .into();
        let s = Scalar::from_bytes_mod_order_wide(&digest) * signing.to_scalar();
        let signature = Signature::from_bytes(&[r, s.to_bytes()].concat().try_into().unwrap());
        assert!(!alone_and_together(&key, b"message", &signature));
        // Every encoding at or above the prime is refused before it decodes.
        let mut y = [0xff; 32];
        y[31] = 0x7f;
        for low in 0xed..=0xff {
            y[0] = low;
            assert!(!canonical_encoding(&y));
        }
        y[0] = 0xec;
        assert!(canonical_encoding(&y), "2^255 - 20 is below the prime");
        // -0: x is 0 (y is 1 or -1) and the sign bit set.
        let mut one = [0; 32];
        one[0] = 1;
        assert!(canonical_encoding(&one));
        one[31] = 0x80;
        assert!(!canonical_encoding(&one));
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        assert!(canonical_encoding(&minus_one));
        minus_one[31] = 0xff;
        assert!(!canonical_encoding(&minus_one));
        // What compression gives is canonical.
        for seed in 0u8..32 {
            let point = ED25519_BASEPOINT_POINT * Scalar::from(seed);
            let bytes = point.compress().to_bytes();
            assert!(canonical_encoding(&bytes));
            assert_eq!(CompressedEdwardsY(bytes).decompress(), Some(point));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// On honest signatures and their mutations, the rule decides as `verify_strict`
        /// does (they differ only on torsion components, which a mutation does not make),
        /// and alone as in a batch.
        #[test]
        fn the_rule_agrees_with_verify_strict_alone_and_in_a_batch(
            seed in any::<[u8; 32]>(),
            message in prop::collection::vec(any::<u8>(), 0..64),
            flip in prop::option::of((0..64usize, 1..=255u8)),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let mut bytes = key.sign(&message).to_bytes();
            if let Some((at, mask)) = flip {
                bytes[at] ^= mask;
            }
            let signature = Signature::from_bytes(&bytes);
            let key = key.verifying_key();
            let strict = key.verify_strict(&message, &signature).is_ok();
            prop_assert_eq!(alone_and_together(&key, &message, &signature), strict);
        }

        /// A batch of signatures, some torsioned and some altered, is accepted exactly
        /// when each is accepted alone.
        #[test]
        fn a_batch_is_accepted_exactly_when_each_signature_is(
            signatures in prop::collection::vec(
                (any::<[u8; 32]>(), any::<u64>(), 0..8usize, any::<bool>()),
                1..6,
            ),
        ) {
            let signed: Vec<_> = signatures
                .iter()
                .map(|(seed, nonce, torsion, altered)| {
                    let key = SigningKey::from_bytes(seed);
                    let message: &[u8] = if *altered { b"altered" } else { b"message" };
                    let signature =
                        signed_with_torsion(&key, b"message", Scalar::from(*nonce), *torsion);
                    (message, signature, key.verifying_key())
                })
                .collect();
            let each = signed
                .iter()
                .all(|(message, signature, key)| verify(key, message, signature));
            prop_assert_eq!(together(&signed), each);
        }
    }
}
