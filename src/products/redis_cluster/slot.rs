//! Keys and hash slots as Redis Cluster computes them (cluster.c
//! `keyHashSlot`: CRC16-XMODEM of the key, modulo 16384; no `{hash tag}`
//! here). A client operation writes key `hasim:<op>`, so its slot follows from
//! its id, the same at the client library and at the nodes, with no string
//! made per request.

/// Hash slots of a cluster.
pub const SLOTS: u16 = 16384;

/// The keys' common prefix (the measured case's `<prefix>:<seq>`).
pub const KEY_PREFIX: &[u8] = b"hasim:";

/// CRC16 with polynomial 0x1021, initial value 0 (crc16.c in Redis).
fn crc16(mut crc: u16, bytes: &[u8]) -> u16 {
    for &b in bytes {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The hash slot of operation `op`'s key, `hasim:<op>` in decimal.
pub fn of_op(op: u32) -> u16 {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = op;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let crc = crc16(crc16(0, KEY_PREFIX), &digits[i..]);
    crc % SLOTS
}

/// The slot range of shard `i` of `n`, split as `redis-cli --cluster create`
/// does (each master gets 16384/n slots, the remainder spread by rounding:
/// 3 masters get 0-5460, 5461-10922, 10923-16383).
pub fn range(i: u16, n: u16) -> (u16, u16) {
    let per = SLOTS as f64 / n as f64;
    let first = (i as f64 * per).round() as u16;
    let last = if i + 1 == n {
        SLOTS - 1
    } else {
        (((i + 1) as f64 * per).round() as u16) - 1
    };
    (first, last)
}

/// The shard of `n` that serves `slot`.
pub fn shard_of(slot: u16, n: u16) -> u16 {
    (0..n)
        .find(|&i| range(i, n).1 >= slot)
        .expect("the last range ends at 16383")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_redis_test_vector() {
        // crc16.c: "123456789" -> 0x31C3.
        assert_eq!(crc16(0, b"123456789"), 0x31c3);
        // CLUSTER KEYSLOT foo = 12182, hasim:0 computed the same way.
        assert_eq!(crc16(0, b"foo") % SLOTS, 12182);
        assert_eq!(of_op(0), crc16(0, b"hasim:0") % SLOTS);
        assert_eq!(of_op(4_000_000_000), crc16(0, b"hasim:4000000000") % SLOTS);
    }

    #[test]
    fn ranges_are_those_of_redis_cli() {
        assert_eq!(range(0, 3), (0, 5460));
        assert_eq!(range(1, 3), (5461, 10922));
        assert_eq!(range(2, 3), (10923, 16383));
        assert_eq!(shard_of(5461, 3), 1);
        assert_eq!(shard_of(16383, 3), 2);
    }

    #[test]
    fn keys_spread_over_the_shards() {
        let mut n = [0u32; 3];
        for op in 0..3000 {
            n[shard_of(of_op(op), 3) as usize] += 1;
        }
        assert!(n.iter().all(|&k| (800..1200).contains(&k)), "{n:?}");
    }
}
