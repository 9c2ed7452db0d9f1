//! Secrets (ABI 1.2 `secret_get`): the generic secrets a filter configuration declares
//! (`secrets` in x/config.proto), which its host subscribed to when the configuration was
//! created, read by name inside a stream's hooks. A name the configuration does not declare is
//! refused, naming those it does: the operator, not the module, decides what a filter may read.

use envoyx_abi::envoyx_bytes;

use crate::stream::cell::StreamCell;

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

    fn host_id(&self, name: &[u8]) -> Option<u64> {
        self.subscribed.iter().find(|(declared, _)| declared.as_bytes() == name).map(|(_, id)| *id)
    }

    /// The declared names, for a refusal.
    fn declared(&self) -> String {
        if self.subscribed.is_empty() {
            return "none".to_string();
        }
        self.subscribed.iter().map(|(name, _)| format!("`{name}`")).collect::<Vec<_>>().join(", ")
    }
}

/// The rule of `secret_get`: the value of declared secret `name` now (empty until the proxy
/// has it: SDS delivers it later), a view valid until the hook returns.
pub(crate) fn secret_get(cell: &StreamCell, name: &[u8]) -> Option<envoyx_bytes> {
    let secrets = cell.secrets();
    let Some(id) = secrets.host_id(name) else {
        cell.refuse(
            format_args!("secret_get of `{}`", crate::log::Shown(name)),
            &format_args!(
                "the filter configuration declares no secret of that name (its `secrets`: {}); declare it \
                 there for the module to read it",
                secrets.declared()
            ),
        );
        return None;
    };
    cell.host.borrow_mut().secret_get(id)
}
