//! Seeded random streams, one per component.
//!
//! A component's stream is ChaCha8 keyed by the run seed, on a stream number
//! derived from the component's *name*: adding or reordering components does not
//! change the draws of the others, and ChaCha8's output is fixed by its
//! specification, not by a crate version or a platform.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub type Rng = ChaCha8Rng;

/// FNV-1a: a stable hash of a name (std's hashers are randomised per process).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: spreads a seed's bits over the whole key.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random stream of component `name` in a run with `seed`.
pub fn stream(seed: u64, name: &str) -> Rng {
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &mix64(seed ^ (i as u64).wrapping_mul(0x5851_f42d_4c95_7f2d)).to_le_bytes(),
        );
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stable_hash(name.as_bytes()));
    rng
}

/// Seed of replication `rep` of sweep point `point` (used by sweeps and tests).
pub fn derive_seed(base: u64, point: u64, rep: u64) -> u64 {
    mix64(mix64(base ^ mix64(point)) ^ rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn same_seed_and_name_give_the_same_draws() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, "lb");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, "lb");
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn names_and_seeds_give_independent_streams() {
        assert_ne!(stream(7, "lb").next_u64(), stream(7, "s1").next_u64());
        assert_ne!(stream(7, "lb").next_u64(), stream(8, "lb").next_u64());
    }

    #[test]
    fn chacha8_output_is_pinned() {
        // Guards against a generator or derivation change silently altering
        // every result: the first draws of two streams, written down once.
        let got = [stream(1, "x").next_u64(), stream(42, "client").next_u64()];
        assert_eq!(got, [1905747089233769624, 4554801221333804084]);
    }
}
