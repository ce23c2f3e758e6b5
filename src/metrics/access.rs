//! The balancers' access log, kept only while a trace is written: which
//! server a balancer chose for each request and how it ended, in the
//! product's own words — HAProxy's two-letter termination state (`SC`,
//! `sQ`, `sH`, `--`), nginx's `$upstream_status` list (`502, 200`) — so the
//! trace reads like the access logs a user would grep.
//!
//! A request can cross several balancers (nginx -> app -> HAProxy -> DB):
//! each keeps its own entry, and the trace shows the one that answered the
//! client.

use crate::process::NodeId;
use std::collections::HashMap;

/// What one balancer logged about one request: the servers it tried and
/// the outcome of each try (or its one termination state).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessEntry {
    pub servers: Vec<NodeId>,
    pub states: Vec<String>,
}

#[derive(Default)]
pub struct AccessLog {
    /// Operation -> (balancer, its entry); a handful per operation at most.
    entries: HashMap<u32, Vec<(NodeId, AccessEntry)>>,
}

impl AccessLog {
    /// Balancer `via` tried `server` for operation `op` (`None`: no server
    /// was available) and the try ended `state`.
    pub fn log(&mut self, op: u32, via: NodeId, server: Option<NodeId>, state: &str) {
        if op == crate::data::UNTRACKED {
            // No client will take it (an app's session call).
            return;
        }
        let list = self.entries.entry(op).or_default();
        let i = match list.iter().position(|(v, _)| *v == via) {
            Some(i) => i,
            None => {
                list.push((via, AccessEntry::default()));
                list.len() - 1
            }
        };
        let e = &mut list[i].1;
        e.servers.extend(server);
        e.states.push(state.to_string());
    }

    /// The entry of balancer `via` for operation `op`, once the client saw
    /// its answer; every balancer's entry of `op` is forgotten.
    pub fn take(&mut self, op: u32, via: Option<NodeId>) -> Option<AccessEntry> {
        let list = self.entries.remove(&op)?;
        let via = via?;
        list.into_iter().find(|(v, _)| *v == via).map(|(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_balancer_keeps_its_own_tries_and_the_answering_one_is_shown() {
        let mut a = AccessLog::default();
        // nginx (1) tries app 5, which goes through HAProxy (2) to db 7.
        a.log(9, 2, Some(7), "SC");
        a.log(9, 1, Some(5), "502");
        a.log(9, 2, Some(8), "--");
        a.log(9, 1, Some(6), "200");
        let e = a.take(9, Some(1)).unwrap();
        assert_eq!(e.servers, [5, 6]);
        assert_eq!(e.states, ["502", "200"]);
        assert_eq!(a.take(9, Some(2)), None, "forgotten with the operation");
        a.log(3, 2, None, "SC");
        assert_eq!(a.take(3, None), None);
        assert!(a.entries.is_empty());
    }
}
