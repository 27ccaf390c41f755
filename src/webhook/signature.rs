//! `X-Hub-Signature-256`: `sha256=` followed by the hex HMAC-SHA256 of the raw body under the
//! webhook secret, compared in constant time (`hmac`'s `verify_slice`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signature was refused. None of these says anything about the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` against the HMAC of `body` under `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&[u8]>) -> Result<(), SignatureError> {
    let mut verifier = Verifier::new(secret, header)?;
    verifier.update(body);
    verifier.finish()
}

/// The HMAC of a body computed as its pieces arrive, so a body never has to be read whole
/// before it can be refused. The header is checked first: a missing or malformed signature
/// is refused before any of the body is read. During a secret rotation it computes one HMAC
/// per secret (the current one first) and says which matched.
pub struct Verifier {
    macs: Vec<Hmac<Sha256>>,
    expected: [u8; 32],
}

impl Verifier {
    pub fn new(secret: &[u8], header: Option<&[u8]>) -> Result<Self, SignatureError> {
        Self::any_of(&[secret], header)
    }

    /// A verifier that accepts a signature under any of `secrets`.
    pub fn any_of(secrets: &[&[u8]], header: Option<&[u8]>) -> Result<Self, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let hex_digest = header
            .strip_prefix(b"sha256=")
            .ok_or(SignatureError::Malformed)?;
        if hex_digest.len() != 64 {
            return Err(SignatureError::Malformed);
        }
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;
        Ok(Verifier {
            macs: secrets.iter().map(|s| mac(s)).collect(),
            expected,
        })
    }

    pub fn update(&mut self, piece: &[u8]) {
        for mac in &mut self.macs {
            mac.update(piece);
        }
    }

    /// Whether everything fed in matches the header (constant-time comparison).
    pub fn finish(self) -> Result<(), SignatureError> {
        self.finish_matching().map(|_| ())
    }

    /// Which secret (its index) the header matches; each compared in constant time.
    pub fn finish_matching(self) -> Result<usize, SignatureError> {
        let expected = self.expected;
        self.macs
            .into_iter()
            .position(|mac| mac.verify_slice(&expected).is_ok())
            .ok_or(SignatureError::Mismatch)
    }
}

/// The header value GitHub would send for `body` (used by tests and load tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from GitHub's documentation on validating webhook deliveries.
    #[test]
    fn matches_githubs_documented_example() {
        let sig = sign(b"It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            sig,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert_eq!(
            verify(
                b"It's a Secret to Everybody",
                b"Hello, World!",
                Some(sig.as_bytes())
            ),
            Ok(())
        );
    }

    #[test]
    fn a_body_fed_in_pieces_verifies_like_the_whole() {
        let body = b"{\"zen\": \"Design for failure.\"}";
        let sig = sign(b"secret", body);
        let mut v = Verifier::new(b"secret", Some(sig.as_bytes())).unwrap();
        for piece in body.chunks(3) {
            v.update(piece);
        }
        assert_eq!(v.finish(), Ok(()));
        let mut v = Verifier::new(b"secret", Some(sig.as_bytes())).unwrap();
        v.update(&body[..body.len() - 1]);
        assert_eq!(v.finish(), Err(SignatureError::Mismatch));
    }

    #[test]
    fn refuses_missing_malformed_and_wrong_signatures() {
        let body = b"{}";
        let good = sign(b"secret", body);
        assert_eq!(verify(b"secret", body, None), Err(SignatureError::Missing));
        assert_eq!(
            verify(b"secret", body, Some(b"sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"secret", body, Some(b"sha256=zz")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"other", body, Some(good.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", b"{ }", Some(good.as_bytes())),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn during_a_rotation_either_secret_verifies_and_the_match_is_named() {
        let body = b"{\"zen\":1}";
        let old = sign(b"old-secret", body);
        let new = sign(b"new-secret", body);
        let check = |header: &str| {
            let mut v =
                Verifier::any_of(&[b"new-secret", b"old-secret"], Some(header.as_bytes())).unwrap();
            v.update(body);
            v.finish_matching()
        };
        assert_eq!(check(&new), Ok(0));
        assert_eq!(check(&old), Ok(1));
        assert_eq!(
            check(&sign(b"someone-else", body)),
            Err(SignatureError::Mismatch)
        );
    }
}
