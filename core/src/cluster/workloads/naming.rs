//! Names and identities the controllers make: the pod-template hash, the
//! five random characters of generated names, uids. All deterministic: a
//! function of the cluster seed and the names, never of a clock.

use crate::api::PodTemplateSpec;

/// Upstream's alphabet for generated names and safe-encoded hashes
/// (`k8s.io/apimachinery/pkg/util/rand`): no vowels, no confusable digits.
pub(crate) const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits (what upstream's `ComputeHash` uses).
fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// FNV-1a, 64 bits, over parts separated by a zero byte.
pub(crate) fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Upstream `rand.SafeEncodeString`: each character mapped into the
/// alphabet.
fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

/// The `pod-template-hash` of a template: FNV-32a of the template
/// rendered as JSON (upstream renders it with a deep printer, so the values
/// differ from a real cluster's, but are as stable), plus the collision
/// count, printed in decimal and safe-encoded.
pub(crate) fn template_hash(template: &PodTemplateSpec, collisions: u32) -> String {
    let mut text = serde_json::to_string(template).unwrap_or_default();
    if collisions > 0 {
        text.push_str(&collisions.to_string());
    }
    safe_encode(&fnv32a(text.as_bytes()).to_string())
}

/// Five characters of the alphabet from the seed, the owner and a serial:
/// the suffix of `generateName`.
pub(crate) fn suffix(seed: u64, namespace: &str, owner: &str, serial: u64) -> String {
    let mut x = fnv64(&[
        &seed.to_le_bytes(),
        namespace.as_bytes(),
        owner.as_bytes(),
        &serial.to_le_bytes(),
    ]);
    let n = ALPHABET.len() as u64;
    (0..5)
        .map(|_| {
            let c = ALPHABET[(x % n) as usize] as char;
            x /= n;
            c
        })
        .collect()
}

/// A uid in UUID form, from the seed and the object's identity.
pub(crate) fn uid(seed: u64, kind: &str, namespace: &str, name: &str) -> String {
    let a = fnv64(&[
        &seed.to_le_bytes(),
        kind.as_bytes(),
        namespace.as_bytes(),
        name.as_bytes(),
    ]);
    let b = fnv64(&[&a.to_le_bytes(), name.as_bytes()]);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_use_the_alphabet_and_are_stable() {
        let a = suffix(0, "default", "web-abc", 0);
        assert_eq!(a.len(), 5);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(a, suffix(0, "default", "web-abc", 0));
        assert_ne!(a, suffix(1, "default", "web-abc", 0));
        assert_ne!(a, suffix(0, "default", "web-abc", 1));
    }

    #[test]
    fn template_hash_is_stable_and_safe() {
        let t = PodTemplateSpec::default();
        let h = template_hash(&t, 0);
        assert!(h.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(h, template_hash(&t, 0));
        assert_ne!(h, template_hash(&t, 1));
        assert_eq!(uid(0, "Pod", "a", "b").len(), 36);
    }
}
