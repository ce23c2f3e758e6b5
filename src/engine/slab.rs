//! A generational slab: in-flight requests live here, addressed by
//! (slot, generation) so that a late message or timeout for a finished request
//! is recognised and ignored. Slots are reused, so memory follows what is in
//! flight, not how many requests a run simulates.

#[derive(Clone)]
pub struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    live: usize,
}

#[derive(Clone)]
struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value`; returns its (slot, generation).
    #[inline]
    pub fn insert(&mut self, value: T) -> (u32, u32) {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let e = &mut self.entries[slot as usize];
            e.value = Some(value);
            (slot, e.generation)
        } else {
            self.entries.push(Entry {
                generation: 0,
                value: Some(value),
            });
            ((self.entries.len() - 1) as u32, 0)
        }
    }

    #[inline]
    pub fn get(&self, slot: u32, generation: u32) -> Option<&T> {
        let e = self.entries.get(slot as usize)?;
        if e.generation == generation {
            e.value.as_ref()
        } else {
            None
        }
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut T> {
        let e = self.entries.get_mut(slot as usize)?;
        if e.generation == generation {
            e.value.as_mut()
        } else {
            None
        }
    }

    /// Removes and returns the value; the slot's generation moves on so that
    /// any reference still held to it goes stale.
    #[inline]
    pub fn remove(&mut self, slot: u32, generation: u32) -> Option<T> {
        let e = self.entries.get_mut(slot as usize)?;
        if e.generation != generation || e.value.is_none() {
            return None;
        }
        e.generation = e.generation.wrapping_add(1);
        self.free.push(slot);
        self.live -= 1;
        e.value.take()
    }

    /// Generation of the live entry at `slot`, if any: for messages that
    /// name a slot and prove who they are otherwise (see `Msg::peer`).
    pub fn generation_of(&self, slot: u32) -> Option<u32> {
        let e = self.entries.get(slot as usize)?;
        e.value.as_ref().map(|_| e.generation)
    }

    pub fn contains(&self, slot: u32, generation: u32) -> bool {
        self.get(slot, generation).is_some()
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// (slot, generation) of every live entry, in slot order (deterministic).
    pub fn keys(&self) -> Vec<(u32, u32)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.value.is_some())
            .map(|(i, e)| (i as u32, e.generation))
            .collect()
    }

    /// (slot, generation, value) of every live entry, in slot order
    /// (deterministic), without allocating.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.value.as_ref().map(|v| (i as u32, e.generation, v)))
    }

    /// Live values in slot order (deterministic).
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| e.value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_references_are_refused_after_reuse() {
        let mut s = Slab::default();
        let (a, g_a) = s.insert("first");
        assert_eq!(s.remove(a, g_a), Some("first"));
        let (b, g_b) = s.insert("second");
        assert_eq!(a, b, "slot is reused");
        assert_eq!(s.get(a, g_a), None, "old generation is stale");
        assert_eq!(s.get(b, g_b), Some(&"second"));
    }

    #[test]
    fn memory_follows_what_is_in_flight() {
        let mut s = Slab::default();
        for i in 0..10_000 {
            let (k, g) = s.insert(i);
            s.remove(k, g);
        }
        assert_eq!(s.entries.len(), 1);
    }
}
