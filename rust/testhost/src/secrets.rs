//! The test host's generic secrets (ABI 1.2 `secret_get`): one store per process, as a proxy's
//! secret manager is, filled by the test ([`set_secret`]) where Envoy's would come from its
//! bootstrap (static secrets) or SDS. A configuration subscribes to each secret it declares:
//! a static one (no `sds_config`) must be in the store by then; an SDS one may come later (it
//! reads empty until the test sets it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

static STORE: Mutex<Option<Store>> = Mutex::new(None);

#[derive(Default)]
struct Store {
    /// By name: the value, if set.
    values: HashMap<String, Arc<[u8]>>,
    /// Subscribed names; a subscription's id is its index + 1.
    subscribed: Vec<String>,
}

fn with_store<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    f(STORE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Store::default))
}

/// Sets secret `name` for every configuration of this process (None removes it): a static
/// secret before a configuration subscribes to it, or what SDS delivers (or rotates to) later.
/// Tests share the process: give each test its own names.
pub fn set_secret(name: &str, value: Option<&[u8]>) {
    with_store(|store| match value {
        Some(value) => store.values.insert(name.to_string(), Arc::from(value)),
        None => store.values.remove(name),
    });
}

/// `ConfigHost::subscribe_secret` of the test host.
pub(crate) fn subscribe(name: &str, sds_config: &str) -> Result<u64, String> {
    with_store(|store| {
        if sds_config.is_empty() && !store.values.contains_key(name) {
            return Err(format!(
                "the proxy has no static secret `{name}` (envoyx_testhost::set_secret it first, or give an sds_config)"
            ));
        }
        store.subscribed.push(name.to_string());
        Ok(store.subscribed.len() as u64)
    })
}

/// The current value of subscription `id` (empty while not delivered); None for an id never
/// handed out.
pub(crate) fn value(id: u64) -> Option<Arc<[u8]>> {
    with_store(|store| {
        let name = store.subscribed.get(usize::try_from(id).ok()?.checked_sub(1)?)?;
        Some(store.values.get(name).cloned().unwrap_or_else(|| Arc::from(&b""[..])))
    })
}
