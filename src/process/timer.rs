//! Timers. Each product has its own timer enum (its `Process::Timer`); the
//! registry wraps them into [`super::Timer`] for the event queue. A timer
//! armed with a key can be cancelled: the key names a slot of the process's
//! [`TimerTable`] and its generation, and a timer whose key is no longer
//! current when it comes due is dropped by the kernel before the model sees
//! it — the cancellation costs no heap operation.

/// Cancels one armed timer ([`super::Ctx::cancel`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    slot: u32,
    generation: u32,
}

impl TimerKey {
    /// The key of a timer that cannot be cancelled (not in the table).
    pub const NONE: TimerKey = TimerKey {
        slot: u32::MAX,
        generation: 0,
    };
}

/// The cancellable timers of one process: a generation per slot, bumped when
/// the timer in it fires or is cancelled, and the free slots.
#[derive(Clone, Debug, Default)]
pub struct TimerTable {
    generations: Vec<u32>,
    free: Vec<u32>,
}

impl TimerTable {
    /// A key for a new timer.
    pub fn arm(&mut self) -> TimerKey {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.generations.push(0);
                (self.generations.len() - 1) as u32
            }
        };
        TimerKey {
            slot,
            generation: self.generations[slot as usize],
        }
    }

    /// A timer with `key` comes due: whether it still counts (and its slot is
    /// then free again). Keyless timers always count.
    pub fn fire(&mut self, key: TimerKey) -> bool {
        if key == TimerKey::NONE {
            return true;
        }
        self.retire(key)
    }

    /// Cancels the timer with `key`; a key already fired, cancelled or from
    /// before a crash is ignored.
    pub fn cancel(&mut self, key: TimerKey) {
        if key != TimerKey::NONE {
            self.retire(key);
        }
    }

    fn retire(&mut self, key: TimerKey) -> bool {
        match self.generations.get_mut(key.slot as usize) {
            Some(g) if *g == key.generation => {
                *g = g.wrapping_add(1);
                self.free.push(key.slot);
                true
            }
            _ => false,
        }
    }

    /// The process died: every outstanding key becomes stale.
    pub fn clear(&mut self) {
        self.free.clear();
        for (slot, g) in self.generations.iter_mut().enumerate().rev() {
            *g = g.wrapping_add(1);
            self.free.push(slot as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_or_fired_key_no_longer_counts() {
        let mut t = TimerTable::default();
        let (a, b) = (t.arm(), t.arm());
        t.cancel(a);
        assert!(!t.fire(a), "cancelled");
        assert!(t.fire(b));
        assert!(!t.fire(b), "fired twice");
        // Slots are reused with a new generation: old keys stay dead.
        let c = t.arm();
        assert!(c != a && c != b);
        t.cancel(a);
        assert!(t.fire(c));
        assert!(t.fire(TimerKey::NONE));
    }

    #[test]
    fn a_crash_makes_every_key_stale() {
        let mut t = TimerTable::default();
        let keys: Vec<TimerKey> = (0..3).map(|_| t.arm()).collect();
        t.clear();
        for k in keys {
            assert!(!t.fire(k));
        }
        let k = t.arm();
        assert!(t.fire(k));
    }
}
