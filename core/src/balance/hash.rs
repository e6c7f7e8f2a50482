//! The hash functions that real balancers use, written from their
//! specifications: xxHash64 (Envoy), MurmurHash3 x64/128 (Cilium's control
//! plane), CRC-32 (nginx and pingora ketama rings), MD5 (libketama), Bob
//! Jenkins' `jhash` words (Cilium's and Linux's datapaths), the kernel's
//! `hash_32`, and svcroute's own fast 64-bit mixer.
//!
//! All of them are pure functions of their input bytes and seed, identical on
//! every target (little-endian byte order is fixed explicitly).

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

#[cfg_attr(not(feature = "compact"), inline(always))]
fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg_attr(not(feature = "compact"), inline(always))]
fn le32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

#[cfg_attr(not(feature = "compact"), inline(always))]
fn xx_round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

#[cfg_attr(not(feature = "compact"), inline(always))]
fn xx_merge(acc: u64, lane: u64) -> u64 {
    (acc ^ xx_round(0, lane)).wrapping_mul(P1).wrapping_add(P4)
}

/// xxHash64 of `data` with `seed` (the XXH64 algorithm, as Envoy's
/// `HashUtil::xxHash64`).
///
/// ```
/// use svcroute::balance::hash::xxhash64;
/// assert_eq!(xxhash64(b"", 0), 0xEF46_DB37_51D8_E999);
/// assert_eq!(xxhash64(b"abc", 0), 0x44BC_2CF5_AD77_0999);
/// ```
pub fn xxhash64(data: &[u8], seed: u64) -> u64 {
    let len = data.len();
    let mut rest = data;
    let mut h = if len >= 32 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = xx_round(*lane, le64(&rest[i * 8..]));
            }
            rest = &rest[32..];
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = xx_merge(h, lane);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(len as u64);
    while rest.len() >= 8 {
        h ^= xx_round(0, le64(rest));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        h ^= u64::from(le32(rest)).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &b in rest {
        h ^= u64::from(b).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

#[cfg_attr(not(feature = "compact"), inline(always))]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    k ^= k >> 33;
    k = k.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    k ^ (k >> 33)
}

/// MurmurHash3 x64/128 of `data` with a 32-bit `seed`, as the two 64-bit
/// halves `(h1, h2)` (little-endian block reads, as Cilium's Go port on x86).
///
/// ```
/// use svcroute::balance::hash::murmur3_x64_128;
/// assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
/// assert_eq!(
///     murmur3_x64_128(b"hello", 0),
///     (0xcbd8_a7b3_41bd_9b02, 0x5b1e_906a_48ae_1d19)
/// );
/// ```
pub fn murmur3_x64_128(data: &[u8], seed: u32) -> (u64, u64) {
    const C1: u64 = 0x87C3_7B91_1142_53D5;
    const C2: u64 = 0x4CF5_AD43_2745_937F;
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);
    let mut chunks = data.chunks_exact(16);
    for block in &mut chunks {
        let k1 = le64(block)
            .wrapping_mul(C1)
            .rotate_left(31)
            .wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52DC_E729);
        let k2 = le64(&block[8..])
            .wrapping_mul(C2)
            .rotate_left(33)
            .wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5AB5);
    }
    let tail = chunks.remainder();
    let mut k1 = 0u64;
    let mut k2 = 0u64;
    for (i, &b) in tail.iter().enumerate() {
        if i < 8 {
            k1 |= u64::from(b) << (8 * i);
        } else {
            k2 |= u64::from(b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static CRC: [[u32; 256]; 8] = crc_tables();

/// A running CRC-32 (IEEE 802.3, reflected, the zlib/`crc32fast` checksum).
/// Cloning the state mid-way is how ketama rings derive their points.
///
/// ```
/// use svcroute::balance::hash::{crc32, Crc32};
/// assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
/// let mut c = Crc32::new();
/// c.update(b"1234");
/// c.update(b"56789");
/// assert_eq!(c.finish(), 0xCBF4_3926);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Crc32::new()
    }
}

impl Crc32 {
    /// A fresh checksum.
    pub const fn new() -> Crc32 {
        Crc32 { state: !0 }
    }

    /// Feed more bytes (slicing-by-8).
    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        let mut c = self.state;
        let mut chunks = data.chunks_exact(8);
        for b in &mut chunks {
            let lo = c ^ le32(b);
            let hi = le32(&b[4..]);
            c = CRC[7][(lo & 0xFF) as usize]
                ^ CRC[6][((lo >> 8) & 0xFF) as usize]
                ^ CRC[5][((lo >> 16) & 0xFF) as usize]
                ^ CRC[4][(lo >> 24) as usize]
                ^ CRC[3][(hi & 0xFF) as usize]
                ^ CRC[2][((hi >> 8) & 0xFF) as usize]
                ^ CRC[1][((hi >> 16) & 0xFF) as usize]
                ^ CRC[0][(hi >> 24) as usize];
        }
        let r = chunks.remainder().len();
        if r > 0 {
            // The tail as a little-endian word: the last 8 bytes of the input
            // shifted down (no variable-length copy), or bytewise when short.
            let v = if data.len() >= 8 {
                le64(&data[data.len() - 8..]) >> (8 * (8 - r))
            } else {
                data.iter()
                    .enumerate()
                    .fold(0u64, |v, (k, &b)| v | (u64::from(b) << (8 * k)))
            };
            c = match r {
                1 => crc_tail::<1>(c, v),
                2 => crc_tail::<2>(c, v),
                3 => crc_tail::<3>(c, v),
                4 => crc_tail::<4>(c, v),
                5 => crc_tail::<5>(c, v),
                6 => crc_tail::<6>(c, v),
                _ => crc_tail::<7>(c, v),
            };
        }
        self.state = c;
    }

    /// The checksum of everything fed so far.
    pub const fn finish(&self) -> u32 {
        !self.state
    }
}

/// The last `R` (1..=7) bytes, little-endian in `v`, in one slicing step:
/// byte `k` goes through table `R - 1 - k` (the byte followed by that many
/// zero bytes), the state is folded into the first four bytes, and state
/// bytes beyond the message shift down. Independent lookups instead of a
/// chain of `R` byte steps.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn crc_tail<const R: usize>(c: u32, v: u64) -> u32 {
    let v = v ^ u64::from(c);
    // State bytes beyond the message (none when R >= 4).
    let mut acc = (u64::from(c) >> (8 * R)) as u32;
    let mut k = 0;
    while k < R {
        acc ^= CRC[R - 1 - k][((v >> (8 * k)) & 0xFF) as usize];
        k += 1;
    }
    acc
}

/// CRC-32 of `data` in one call.
///
/// ```
/// assert_eq!(svcroute::balance::hash::crc32(b""), 0);
/// ```
#[inline]
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// MD5 digest of `data` (RFC 1321), used by libketama's point layout.
///
/// ```
/// use svcroute::balance::hash::md5;
/// assert_eq!(md5(b"")[..4], [0xd4, 0x1d, 0x8c, 0xd9]);
/// ```
pub fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(|sin(i + 1)| * 2^32), tabulated.
    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    let mut st: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut block = |b: &[u8]| {
        let (mut a, mut bb, mut c, mut d) = (st[0], st[1], st[2], st[3]);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((bb & c) | (!bb & d), i),
                1 => ((d & bb) | (!d & c), (5 * i + 1) % 16),
                2 => (bb ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (bb | !d), (7 * i) % 16),
            };
            let m = le32(&b[g * 4..]);
            let t = d;
            d = c;
            c = bb;
            bb = bb.wrapping_add(
                a.wrapping_add(f)
                    .wrapping_add(K[i])
                    .wrapping_add(m)
                    .rotate_left(S[i]),
            );
            a = t;
        }
        st[0] = st[0].wrapping_add(a);
        st[1] = st[1].wrapping_add(bb);
        st[2] = st[2].wrapping_add(c);
        st[3] = st[3].wrapping_add(d);
    };
    let mut chunks = data.chunks_exact(64);
    for b in &mut chunks {
        block(b);
    }
    let rem = chunks.remainder();
    let mut tail = [0u8; 128];
    tail[..rem.len()].copy_from_slice(rem);
    tail[rem.len()] = 0x80;
    let total = if rem.len() < 56 { 64 } else { 128 };
    tail[total - 8..total].copy_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    block(&tail[..64]);
    if total == 128 {
        block(&tail[64..]);
    }
    let mut out = [0u8; 16];
    for (i, w) in st.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// The final mix of Bob Jenkins' lookup3 on three words (`__jhash_final`).
#[cfg_attr(not(feature = "compact"), inline(always))]
fn jhash_final(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c.wrapping_sub(b.rotate_left(24))
}

/// The lookup3 mix step (`__jhash_mix`).
#[cfg_attr(not(feature = "compact"), inline(always))]
fn jhash_mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

/// Linux/Cilium `jhash_3words(a, b, c, initval)`.
///
/// ```
/// let h = svcroute::balance::hash::jhash_3words(1, 2, 3, 0);
/// assert_eq!(h, svcroute::balance::hash::jhash_3words(1, 2, 3, 0));
/// ```
pub fn jhash_3words(a: u32, b: u32, c: u32, initval: u32) -> u32 {
    let iv = initval.wrapping_add(0xDEAD_BEEF).wrapping_add(3 << 2);
    jhash_final(a.wrapping_add(iv), b.wrapping_add(iv), c.wrapping_add(iv))
}

/// Cilium's IPv6 tuple hash (`hash_from_tuple_v6`): two lookup3 mixes over the
/// four source-address words, the ports word and the protocol, then the final
/// mix with the seed added to `a`.
///
/// ```
/// let w = [1, 2, 3, 4];
/// let h = svcroute::balance::hash::jhash_v6_tuple(w, 5, 6, 7);
/// assert_ne!(h, svcroute::balance::hash::jhash_v6_tuple(w, 5, 6, 8));
/// ```
pub fn jhash_v6_tuple(saddr: [u32; 4], ports: u32, proto: u32, seed: u32) -> u32 {
    let (mut a, mut b, mut c) = (saddr[0], saddr[1], saddr[2]);
    jhash_mix(&mut a, &mut b, &mut c);
    a = a.wrapping_add(saddr[3]);
    b = b.wrapping_add(ports);
    c = c.wrapping_add(proto);
    jhash_mix(&mut a, &mut b, &mut c);
    a = a.wrapping_add(seed);
    jhash_final(a, b, c)
}

#[cfg_attr(not(feature = "compact"), inline(always))]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-1-3 of `data` with the 128-bit key `(k0, k1)`: Rust's
/// `DefaultHasher` function, and the Linux kernel's `hsiphash` on 64-bit
/// machines (which truncates it to 32 bits).
///
/// ```
/// use svcroute::balance::{hash::siphash13, jump_consistent_hash};
/// // jumphash's own test: "test1" (a str hashes its bytes and 0xFF).
/// assert_eq!(jump_consistent_hash(siphash13(b"test1\xff", 0, 0), 10_000_000), 8_970_050);
/// ```
pub fn siphash13(data: &[u8], k0: u64, k1: u64) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let m = le64(c);
        v[3] ^= m;
        sip_round(&mut v);
        v[0] ^= m;
    }
    let mut b = (data.len() as u64) << 56;
    for (i, &x) in chunks.remainder().iter().enumerate() {
        b |= u64::from(x) << (8 * i);
    }
    v[3] ^= b;
    sip_round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The kernel's `hsiphash(&v, 4, key)` on a 64-bit machine: SipHash-1-3 of
/// the word's four little-endian bytes, truncated to 32 bits.
///
/// ```
/// use svcroute::balance::hash::{hsiphash_u32, siphash13};
/// assert_eq!(hsiphash_u32(7, 1, 2), siphash13(&7u32.to_le_bytes(), 1, 2) as u32);
/// ```
pub fn hsiphash_u32(v: u32, k0: u64, k1: u64) -> u32 {
    siphash13(&v.to_le_bytes(), k0, k1) as u32
}

/// The kernel's `hash_32(val, bits)`: multiply by the 32-bit golden-ratio
/// constant `0x61C88647` and keep the top `bits` bits (`bits` in 1..=32).
///
/// ```
/// assert_eq!(svcroute::balance::hash::hash_32(0, 8), 0);
/// assert!(svcroute::balance::hash::hash_32(12345, 8) < 256);
/// ```
pub fn hash_32(val: u32, bits: u32) -> u32 {
    let bits = bits.clamp(1, 32);
    val.wrapping_mul(0x61C8_8647) >> (32 - bits)
}

/// svcroute's fast 64-bit mixer of two words (a folded 128-bit multiply,
/// in the style of wyhash); stable across versions and targets, used to hash
/// flow keys when no compatibility mode is asked for.
///
/// ```
/// use svcroute::balance::hash::mix64;
/// assert_eq!(mix64(1, 2, 3), mix64(1, 2, 3));
/// assert_ne!(mix64(1, 2, 3), mix64(1, 2, 4));
/// ```
#[cfg_attr(not(feature = "compact"), inline(always))]
pub fn mix64(a: u64, b: u64, seed: u64) -> u64 {
    const K0: u64 = 0xA076_1D64_78BD_642F;
    const K1: u64 = 0xE703_7ED1_A0B4_28DB;
    let x = u128::from(a ^ seed ^ K0) * u128::from(b ^ K1);
    let y = (x as u64) ^ ((x >> 64) as u64);
    let z = u128::from(y ^ K0) * u128::from(seed ^ K1 ^ 0x8EBC_6AF0_9C88_C6E3);
    (z as u64) ^ ((z >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn xxhash64_vectors() {
        assert_eq!(xxhash64(b"", 0), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxhash64(b"a", 0), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxhash64(b"abc", 0), 0x44BC_2CF5_AD77_0999);
        // A long input exercises the 32-byte stripes.
        let long = b"Nobody inspects the spammish repetition";
        assert_eq!(xxhash64(long, 0), 0xFBCE_A83C_8A37_8BF1);
    }

    #[test]
    fn md5_vectors() {
        assert_eq!(hex(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        let long = [b'a'; 1000];
        assert_eq!(hex(md5(&long)), "cabe45dcc9ae5b66ba86600cca6b8ba8");
    }

    #[test]
    fn crc32_vectors() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // Every tail length against the bytewise definition.
        let data: Vec<u8> = (0..40u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..data.len() {
            let mut c = !0u32;
            for &b in &data[..len] {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            assert_eq!(crc32(&data[..len]), !c, "length {len}");
            for split in 0..=len {
                let mut s = Crc32::new();
                s.update(&data[..split]);
                s.update(&data[split..len]);
                assert_eq!(s.finish(), !c, "length {len} split {split}");
            }
        }
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn siphash13_matches_published_jumphash_vectors() {
        use crate::balance::jump_consistent_hash as jump;
        let h = |s: &str| {
            let mut v = s.as_bytes().to_vec();
            v.push(0xff);
            siphash13(&v, 0, 0)
        };
        assert_eq!(jump(h("test1"), 10_000_000), 8_970_050);
        assert_eq!(jump(h("test2"), 1000), 10);
        assert_eq!(jump(h("test3"), 1000), 76);
        assert_eq!(jump(h("test4"), 1000), 161);
        assert_eq!(jump(h("test5"), 50), 33);
        assert_eq!(jump(h(""), 1000), 392);
    }

    #[test]
    fn murmur3_vectors() {
        assert_eq!(
            murmur3_x64_128(b"The quick brown fox jumps over the lazy dog", 0),
            (0xe34b_bc7b_bc07_1b6c, 0x7a43_3ca9_c49a_9347)
        );
    }
}
