//! The proxy's runtime (ABI 1.2 `runtime_get`): feature flags and values a module reads on any
//! thread. The host that runs the proxy installs a [`RuntimeSource`] once ([`set_runtime_source`]);
//! the rule here checks the key and the kind, answers for a host without a runtime, and warns
//! once per process and reason (a module asks per request; a flood of the same line helps no
//! one).

use std::sync::{Arc, RwLock};

use crate::stream::stream_info::ValueKind;
use crate::validate::process_key as checked_key;

/// A proxy's runtime, as its host reads it. Any thread.
pub trait RuntimeSource: Send + Sync {
    /// `key` as a boolean: None when the runtime has no boolean there; Err(reason) when this
    /// proxy cannot say (the reason names the proxy and what would).
    fn boolean(&self, key: &str) -> Result<Option<bool>, String>;
    /// `key` as a number (the runtime keeps integers as doubles), as [`boolean`](Self::boolean).
    fn number(&self, key: &str) -> Result<Option<f64>, String>;
}

static SOURCE: RwLock<Option<Arc<dyn RuntimeSource>>> = RwLock::new(None);

/// The host's runtime, for every module of the process from now on (the last one wins).
pub fn set_runtime_source(source: Arc<dyn RuntimeSource>) {
    *SOURCE.write().unwrap_or_else(|e| e.into_inner()) = Some(source);
}

/// A runtime value, as `runtime_get` hands it to a module.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RuntimeValue {
    Bool(bool),
    Number(f64),
}

/// The rule of `runtime_get`: `key` as `kind` from the host's runtime; None when the runtime has
/// no such value, or refused (one warning per process and reason).
pub(crate) fn runtime_get(key: &[u8], kind: u32) -> Option<RuntimeValue> {
    let shown = crate::log::Shown(key);
    let key = match checked_key(key) {
        Ok(key) => key,
        Err(reason) => return refuse(&format!("runtime_get of `{shown}`"), &reason),
    };
    let source = SOURCE.read().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(source) = source else {
        return refuse("runtime_get", "this host has no runtime to read");
    };
    let answer = match ValueKind::from_abi(kind) {
        Some(ValueKind::Bool) => source.boolean(key).map(|v| v.map(RuntimeValue::Bool)),
        Some(ValueKind::Number) => source.number(key).map(|v| v.map(RuntimeValue::Number)),
        Some(ValueKind::String) => {
            Err("runtime values are read as ENVOYX_VALUE_BOOL or ENVOYX_VALUE_NUMBER \
                                        (Envoy's modules read no runtime strings)"
                .to_string())
        }
        None => Err(format!("unknown value kind {kind}")),
    };
    answer.unwrap_or_else(|reason| refuse("runtime_get", &reason))
}

/// Logs a refusal once per process per text (`what` and `reason`); returns None.
fn refuse(what: &str, reason: &str) -> Option<RuntimeValue> {
    crate::log::refused_once(what, reason);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::MAX_PROCESS_KEY as MAX_RUNTIME_KEY;

    /// A runtime that holds one boolean and counts what it was asked.
    struct OneFlag(std::sync::atomic::AtomicU32);

    impl RuntimeSource for OneFlag {
        fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok((key == "core_test.flag").then_some(true))
        }
        fn number(&self, _key: &str) -> Result<Option<f64>, String> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(None)
        }
    }

    #[test]
    fn keys_and_kinds_are_checked_before_the_runtime_is_asked() {
        let source = Arc::new(OneFlag(std::sync::atomic::AtomicU32::new(0)));
        set_runtime_source(source.clone());
        let asked = || source.0.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            runtime_get(b"core_test.flag", envoyx_abi::ENVOYX_VALUE_BOOL),
            Some(RuntimeValue::Bool(true))
        );
        assert_eq!(runtime_get(b"core_test.other", envoyx_abi::ENVOYX_VALUE_BOOL), None);
        assert_eq!(runtime_get(b"core_test.flag", envoyx_abi::ENVOYX_VALUE_NUMBER), None);
        assert_eq!(asked(), 3);
        for (key, kind) in [
            (&b""[..], envoyx_abi::ENVOYX_VALUE_BOOL),
            (&[b'k'; MAX_RUNTIME_KEY + 1][..], envoyx_abi::ENVOYX_VALUE_BOOL),
            (b"has space", envoyx_abi::ENVOYX_VALUE_BOOL),
            (b"line\nbreak", envoyx_abi::ENVOYX_VALUE_BOOL),
            (b"core_test.flag", envoyx_abi::ENVOYX_VALUE_STRING),
            (b"core_test.flag", 7),
        ] {
            assert_eq!(runtime_get(key, kind), None, "{} as {kind}", crate::log::Shown(key));
        }
        assert_eq!(asked(), 3, "refused before the runtime was asked");
        assert_eq!(checked_key(&[b'k'; MAX_RUNTIME_KEY]).map(str::len), Ok(MAX_RUNTIME_KEY));
    }
}
