//! A header map as Envoy keeps it: ordered entries, keys compared case-insensitively.

use envoyx_abi::{envoyx_bytes, envoyx_header};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMap {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl HeaderMap {
    pub fn from_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Self {
        Self {
            entries: pairs
                .iter()
                .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref().to_vec()))
                .collect(),
        }
    }

    fn matches(key: &[u8]) -> impl Fn(&&(Vec<u8>, Vec<u8>)) -> bool + '_ {
        move |(k, _)| k.eq_ignore_ascii_case(key)
    }

    /// Every value of `key`, as strings (lossy), for assertions.
    pub fn values(&self, key: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(Self::matches(key.as_bytes()))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.values(key).into_iter().next()
    }

    /// All entries as strings, in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    pub(crate) fn value_views(&self, key: &[u8], out: &mut [envoyx_bytes]) -> usize {
        let mut count = 0;
        for (_, v) in self.entries.iter().filter(Self::matches(key)) {
            if let Some(slot) = out.get_mut(count) {
                *slot = envoyx_bytes::from_slice(v);
            }
            count += 1;
        }
        count
    }

    pub(crate) fn entry_views(&self, out: &mut [envoyx_header]) -> usize {
        for (slot, (k, v)) in out.iter_mut().zip(&self.entries) {
            *slot = envoyx_header { key: envoyx_bytes::from_slice(k), value: envoyx_bytes::from_slice(v) };
        }
        self.entries.len()
    }

    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        match self.entries.iter().position(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(first) => {
                self.entries[first].1 = value.to_vec();
                let mut i = 0;
                self.entries.retain(|(k, _)| {
                    i += 1;
                    i - 1 == first || !k.eq_ignore_ascii_case(key)
                });
            }
            None => self.add(key, value),
        }
    }

    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        self.entries.push((key.to_ascii_lowercase(), value.to_vec()));
    }

    pub fn remove(&mut self, key: &[u8]) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        before - self.entries.len()
    }
}
