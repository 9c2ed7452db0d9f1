//! Secrets (ABI 1.2 `secret_get`): the generic secrets a filter configuration declares
//! (`secrets` in x/config.proto), which its host subscribed to when the configuration was
//! created. Plain data of the configuration; the rule that reads one inside a stream's hooks is
//! `stream_info::secret_get`.

/// A configuration's secrets: each declared name with the host's id for it.
#[derive(Debug, Default)]
pub struct Secrets {
    subscribed: Box<[(String, u64)]>,
}

impl Secrets {
    /// The secrets the host subscribed to, by declared name.
    pub(crate) fn new(subscribed: Vec<(String, u64)>) -> Self {
        Secrets { subscribed: subscribed.into_boxed_slice() }
    }

    pub(crate) fn host_id(&self, name: &[u8]) -> Option<u64> {
        self.subscribed.iter().find(|(declared, _)| declared.as_bytes() == name).map(|(_, id)| *id)
    }

    /// The declared names, for a refusal.
    pub(crate) fn declared(&self) -> String {
        if self.subscribed.is_empty() {
            return "none".to_string();
        }
        self.subscribed.iter().map(|(name, _)| format!("`{name}`")).collect::<Vec<_>>().join(", ")
    }
}
