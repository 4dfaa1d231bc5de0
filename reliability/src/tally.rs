//! Lost and duplicated, counted by comparing what the services accepted with what arrived.
use std::collections::{HashMap, HashSet};

/// The comparison of accepted ids with arrived rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub accepted: u64,
    /// Accepted ids that arrived at least once.
    pub delivered: u64,
    /// Accepted ids that never arrived.
    pub lost: u64,
    /// Arrivals beyond the first, per id.
    pub duplicated: u64,
    /// Arrived ids nobody accepted (e.g. an upload whose answer the client never saw).
    pub unexpected: u64,
    /// A few lost ids, for the failure message.
    pub lost_sample: Vec<String>,
}

/// `arrived`: rows per id, as counted at the destination.
pub fn tally<'a>(accepted: impl IntoIterator<Item = &'a String>, arrived: &HashMap<String, u64>) -> Tally {
    let accepted: HashSet<&String> = accepted.into_iter().collect();
    let mut t = Tally { accepted: accepted.len() as u64, ..Tally::default() };
    for id in &accepted {
        match arrived.get(*id) {
            Some(&n) if n > 0 => {
                t.delivered += 1;
                t.duplicated += n - 1;
            }
            _ => {
                t.lost += 1;
                if t.lost_sample.len() < 5 {
                    t.lost_sample.push((*id).clone());
                }
            }
        }
    }
    for (id, n) in arrived {
        if !accepted.contains(id) {
            t.unexpected += n;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lost_duplicated_and_unexpected() {
        let accepted: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let arrived = HashMap::from([("a".to_owned(), 1), ("b".to_owned(), 3), ("x".to_owned(), 1)]);
        let t = tally(&accepted, &arrived);
        assert_eq!((t.accepted, t.delivered, t.lost, t.duplicated, t.unexpected), (3, 2, 1, 2, 1));
        assert_eq!(t.lost_sample, ["c"]);
    }
}
