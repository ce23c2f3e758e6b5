use super::config::Quorum;

#[test]
fn auto_quorum_is_a_majority_or_half_with_the_first_brick() {
    let q = Quorum::Auto;
    assert!(q.met(0b111, 3));
    assert!(q.met(0b011, 3));
    assert!(q.met(0b101, 3));
    assert!(!q.met(0b001, 3), "one of three");
    assert!(!q.met(0b100, 3));
    // Replica 2: half is enough only with the first brick.
    assert!(q.met(0b01, 2));
    assert!(!q.met(0b10, 2));
    // Replica 4: two including the first.
    assert!(q.met(0b0011, 4));
    assert!(!q.met(0b1100, 4));
}

#[test]
fn fixed_and_none_count_bricks() {
    assert!(Quorum::Fixed(2).met(0b110, 3));
    assert!(!Quorum::Fixed(3).met(0b110, 3));
    assert!(Quorum::None.met(0b100, 3));
    assert!(!Quorum::None.met(0, 3));
}

#[test]
fn the_ping_window_is_one_to_two_ping_timeouts() {
    use crate::engine::Dur;
    let (lo, hi) = super::formulas::ping_window(Dur::from_secs(42)).unwrap();
    assert_eq!((lo, hi), (Dur::from_secs(42), Dur::from_secs(84)));
    assert!(super::formulas::ping_window(Dur::ZERO).is_none());
}
