//! What a module tells the rest of the proxy about a stream, and how it steers it (ABI 1.1):
//! dynamic metadata (read by the access log and later filters), filter state, tags on the
//! tracer's span, and routing (re-pick the route, pin the upstream host).
//!
//! The rules, all here: names and string values are text the proxy prints (`validate::name`,
//! `validate::text`: UTF-8 without control characters), a number is finite (both end up in
//! protobuf and JSON); a filter-state key is set at most once per stream and never when the
//! stream's filter state already has it — set by this module, another filter or Envoy (the proxy
//! keeps it read-only, and Envoy treats a second set as its own bug); routing calls work only
//! while the request headers are still held, since the route is picked when they go on. The host
//! only reads and writes the proxy's stream info.

use envoyx_abi::{envoyx_bytes, envoyx_value};

use crate::log::Shown;
use crate::stream::cell::StreamCell;
use crate::stream::validate::{self, MAX_NAME, MAX_VALUE, Refusal};
use crate::vocab::Direction;

/// Where metadata is read from. Mirrors `envoyx_metadata_source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MetadataSource {
    Dynamic = envoyx_abi::ENVOYX_METADATA_DYNAMIC,
    Route = envoyx_abi::ENVOYX_METADATA_ROUTE,
    Cluster = envoyx_abi::ENVOYX_METADATA_CLUSTER,
    /// ABI 1.2: the chosen upstream host's metadata.
    Host = envoyx_abi::ENVOYX_METADATA_HOST,
    /// ABI 1.2: the chosen upstream host's locality's metadata.
    HostLocality = envoyx_abi::ENVOYX_METADATA_HOST_LOCALITY,
}

impl MetadataSource {
    /// Every source, in ABI order.
    pub const ALL: [MetadataSource; 5] = [
        MetadataSource::Dynamic,
        MetadataSource::Route,
        MetadataSource::Cluster,
        MetadataSource::Host,
        MetadataSource::HostLocality,
    ];
}

/// A metadata value, checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetadataValue<'a> {
    String(&'a str),
    Number(f64),
    Bool(bool),
}

impl MetadataValue<'_> {
    /// The ABI's value (a string views this one's bytes).
    pub fn to_abi(self) -> envoyx_value {
        match self {
            MetadataValue::String(s) => envoyx_value::string(s.as_bytes()),
            MetadataValue::Number(n) => envoyx_value::number(n),
            MetadataValue::Bool(b) => envoyx_value::boolean(b),
        }
    }
}

/// A metadata value's kind. Mirrors `envoyx_value_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ValueKind {
    String = envoyx_abi::ENVOYX_VALUE_STRING,
    Number = envoyx_abi::ENVOYX_VALUE_NUMBER,
    Bool = envoyx_abi::ENVOYX_VALUE_BOOL,
}

impl ValueKind {
    pub(crate) fn from_abi(kind: u32) -> Option<Self> {
        [Self::String, Self::Number, Self::Bool].into_iter().find(|k| *k as u32 == kind)
    }
}

/// Checks a value the module passes in.
fn value(value: &envoyx_value) -> Result<MetadataValue<'_>, String> {
    match ValueKind::from_abi(value.kind) {
        Some(ValueKind::String) => {
            // Safety: the module's view, valid during the call this check runs in.
            let bytes = unsafe { value.string.as_slice() };
            validate::text("string value", bytes, MAX_VALUE)
                .map(MetadataValue::String)
                .map_err(|r| r.to_string())
        }
        Some(ValueKind::Number) if value.number.is_finite() => Ok(MetadataValue::Number(value.number)),
        Some(ValueKind::Number) => Err(format!("the number {} is not finite", value.number)),
        Some(ValueKind::Bool) => Ok(MetadataValue::Bool(value.boolean)),
        None => Err(format!("unknown value kind {}", value.kind)),
    }
}

/// A namespace or key, checked ([`validate::name`]), with the refusal as text.
fn name<'a>(what: &'static str, bytes: &'a [u8]) -> Result<&'a str, String> {
    validate::name(what, bytes).map_err(|r: Refusal| r.to_string())
}

/// Logs `refusal` of `what` on the stream; false.
fn refused(cell: &StreamCell, what: std::fmt::Arguments<'_>, refusal: &dyn std::fmt::Display) -> bool {
    cell.refuse(what, refusal);
    false
}

/// `metadata_set`.
pub(crate) fn metadata_set(cell: &StreamCell, ns: &[u8], key: &[u8], v: &envoyx_value) -> bool {
    let checked = name("namespace", ns).and_then(|ns| Ok((ns, name("key", key)?, value(v)?)));
    match checked {
        Ok((ns, key, v)) => cell.host.borrow_mut().metadata_set(ns, key, v),
        Err(reason) => refused(cell, format_args!("metadata_set of `{}`", Shown(key)), &reason),
    }
}

/// `metadata_get`: the value (its string a view of the host's) when present with `kind`.
pub(crate) fn metadata_get(
    cell: &StreamCell,
    source: u32,
    ns: &[u8],
    key: &[u8],
    kind: u32,
) -> Option<envoyx_value> {
    let source = MetadataSource::ALL.into_iter().find(|s| *s as u32 == source);
    let checked = match (source, ValueKind::from_abi(kind)) {
        (None, _) => Err(format!("unknown metadata source {source:?}")),
        (_, None) => Err(format!("unknown value kind {kind}")),
        (Some(source), Some(kind)) => {
            name("namespace", ns).and_then(|ns| Ok((source, ns, name("key", key)?, kind)))
        }
    };
    match checked {
        Ok((source, ns, key, kind)) => cell.host.borrow_mut().metadata_get(source, ns, key, kind),
        Err(reason) => {
            refused(cell, format_args!("metadata_get of `{}`", Shown(key)), &reason);
            None
        }
    }
}

/// `metadata_namespaces` (`ns` None) and `metadata_keys`: how many names there are, up to
/// `out.len()` of them written as views of the host's.
pub(crate) fn metadata_names(
    cell: &StreamCell,
    source: u32,
    ns: Option<&[u8]>,
    out: &mut [envoyx_bytes],
) -> usize {
    let call = if ns.is_some() { "metadata_keys" } else { "metadata_namespaces" };
    let Some(source) = MetadataSource::ALL.into_iter().find(|s| *s as u32 == source) else {
        refused(cell, format_args!("{call} of source {source}"), &"unknown metadata source");
        return 0;
    };
    let ns = match ns.map(|ns| name("namespace", ns)).transpose() {
        Ok(ns) => ns,
        Err(reason) => {
            refused(cell, format_args!("{call} of `{}`", Shown(ns.unwrap_or_default())), &reason);
            return 0;
        }
    };
    cell.host.borrow_mut().metadata_names(source, ns, out).unwrap_or(0)
}

/// `metadata_get_typed`: the type URL and value of namespace `ns`'s Any in `source`'s typed
/// metadata, as views of the host's.
pub(crate) fn metadata_get_typed(
    cell: &StreamCell,
    source: u32,
    ns: &[u8],
) -> Option<(envoyx_bytes, envoyx_bytes)> {
    let Some(source) = MetadataSource::ALL.into_iter().find(|s| *s as u32 == source) else {
        refused(cell, format_args!("metadata_get_typed of source {source}"), &"unknown metadata source");
        return None;
    };
    let ns = match name("namespace", ns) {
        Ok(ns) => ns,
        Err(reason) => {
            refused(cell, format_args!("metadata_get_typed of `{}`", Shown(ns)), &reason);
            return None;
        }
    };
    if let Some(reason) = cell.host.borrow().unserved("metadata_get_typed") {
        refused(cell, format_args!("metadata_get_typed of `{ns}`"), &reason);
        return None;
    }
    cell.host.borrow_mut().metadata_typed(source, ns)
}

/// `metadata_set_typed`: namespace `ns` of the typed dynamic metadata set to an Any of
/// `type_url` holding `value`, which the core builds (so the proxy is never handed bytes that
/// are no Any).
pub(crate) fn metadata_set_typed(cell: &StreamCell, ns: &[u8], type_url: &[u8], value: &[u8]) -> bool {
    let ns = match name("namespace", ns) {
        Ok(ns) => ns,
        Err(reason) => return refused(cell, format_args!("metadata_set_typed of `{}`", Shown(ns)), &reason),
    };
    let what = format!("metadata_set_typed of `{ns}`");
    let type_url = match checked_type_url(type_url) {
        Ok(url) => url,
        Err(reason) => return refused(cell, format_args!("{what}"), &reason),
    };
    if value.len() > MAX_VALUE {
        let reason = format!("a typed value is at most {MAX_VALUE} bytes, this one {}", value.len());
        return refused(cell, format_args!("{what}"), &reason);
    }
    let unserved = cell.host.borrow().unserved("metadata_set_typed");
    if let Some(reason) = unserved {
        return refused(cell, format_args!("{what}"), &reason);
    }
    let any = prost_types::Any { type_url: type_url.to_string(), value: value.to_vec() };
    cell.host.borrow_mut().metadata_set_typed(ns, &prost::Message::encode_to_vec(&any))
}

/// An Any's type URL: 1 to [`MAX_NAME`] bytes of printable ASCII without spaces, a non-empty
/// message name after its last `/` (protobuf's own rule for resolving it).
fn checked_type_url(url: &[u8]) -> Result<&str, String> {
    let shown = Shown(url);
    if url.is_empty() || url.len() > MAX_NAME || !url.iter().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "a type URL is 1 to {MAX_NAME} bytes of printable ASCII without spaces, not `{shown}`"
        ));
    }
    let url = std::str::from_utf8(url).expect("printable ASCII is UTF-8");
    match url.rsplit_once('/') {
        Some((_, message)) if !message.is_empty() => Ok(url),
        _ => Err(format!("the type URL `{url}` names no message (`type.googleapis.com/package.Message`)")),
    }
}

/// `filter_state_set_typed`: as `filter_state_set`, the object made by the proxy's factory
/// named `key`.
pub(crate) fn filter_state_set_typed(cell: &StreamCell, key: &[u8], value: &[u8]) -> bool {
    let what = format_args!("filter_state_set_typed of `{}`", Shown(key));
    let Some((key, value)) = free_filter_state_key(cell, what, key, value) else { return false };
    if !cell.host.borrow_mut().filter_state_set_typed(key, value.as_bytes()) {
        return refused(
            cell,
            what,
            &"the proxy has no filter-state object factory of that name, or its factory refused the value",
        );
    }
    true
}

/// `filter_state_get_serialized`: a view of the host's bytes.
pub(crate) fn filter_state_get_serialized(cell: &StreamCell, key: &[u8]) -> Option<envoyx_bytes> {
    match name("key", key) {
        Ok(key) => cell.host.borrow_mut().filter_state_serialized(key),
        Err(reason) => {
            refused(cell, format_args!("filter_state_get_serialized of `{}`", Shown(key)), &reason);
            None
        }
    }
}

/// The rule every filter-state setter shares: the key and the value checked, and the key free
/// (a key is set once: the proxy keeps it read-only, whoever set it). None when refused
/// (logged as `what`).
fn free_filter_state_key<'a>(
    cell: &StreamCell,
    what: std::fmt::Arguments<'_>,
    key: &'a [u8],
    value: &'a [u8],
) -> Option<(&'a str, &'a str)> {
    let checked = name("key", key)
        .and_then(|key| Ok((key, validate::text("value", value, MAX_VALUE).map_err(|r| r.to_string())?)));
    let (key, value) = match checked {
        Ok(checked) => checked,
        Err(reason) => {
            refused(cell, what, &reason);
            return None;
        }
    };
    if cell.host.borrow_mut().filter_state_exists(key) {
        refused(
            cell,
            what,
            &"the stream's filter state already has it, set by another filter or by the proxy, or \
              earlier by this one (a key is set once; the proxy keeps it read-only)",
        );
        return None;
    }
    Some((key, value))
}

/// `filter_state_set`.
pub(crate) fn filter_state_set(cell: &StreamCell, key: &[u8], value: &[u8]) -> bool {
    let what = format_args!("filter_state_set of `{}`", Shown(key));
    let Some((key, value)) = free_filter_state_key(cell, what, key, value) else { return false };
    cell.host.borrow_mut().filter_state_set(key, value.as_bytes())
}

/// `filter_state_get`: a view of the host's bytes.
pub(crate) fn filter_state_get(cell: &StreamCell, key: &[u8]) -> Option<envoyx_bytes> {
    match name("key", key) {
        Ok(key) => cell.host.borrow_mut().filter_state_get(key),
        Err(reason) => {
            refused(cell, format_args!("filter_state_get of `{}`", Shown(key)), &reason);
            None
        }
    }
}

/// `filter_state_has` (ABI 1.2): whether the stream's filter state has `key`, whatever set it.
pub(crate) fn filter_state_has(cell: &StreamCell, key: &[u8]) -> bool {
    match name("key", key) {
        Ok(key) => cell.host.borrow_mut().filter_state_exists(key),
        Err(reason) => refused(cell, format_args!("filter_state_has of `{}`", Shown(key)), &reason),
    }
}

/// `span_set_tag`.
pub(crate) fn span_set_tag(cell: &StreamCell, key: &[u8], value: &[u8]) -> bool {
    let checked = name("key", key)
        .and_then(|key| Ok((key, validate::text("value", value, MAX_VALUE).map_err(|r| r.to_string())?)));
    match checked {
        Ok((key, value)) => cell.host.borrow_mut().span_set_tag(key, value),
        Err(reason) => refused(cell, format_args!("span_set_tag of `{}`", Shown(key)), &reason),
    }
}

/// Why routing cannot change now, if it cannot: the route is picked when the request headers go
/// on.
fn routing_closed(cell: &StreamCell) -> Option<&'static str> {
    if cell.completed.get() || cell.ending.get() {
        Some("the stream is over or answered")
    } else if cell.flow(Direction::Request).headers_forwarded {
        Some("the request headers already went on, and with them the route was picked")
    } else {
        None
    }
}

/// `clear_route_cache`.
pub(crate) fn clear_route_cache(cell: &StreamCell) -> bool {
    match routing_closed(cell) {
        Some(reason) => refused(cell, format_args!("clear_route_cache"), &reason),
        None => cell.host.borrow_mut().clear_route_cache(),
    }
}

/// `refresh_route_cluster` (ABI 1.2): the route stays, its cluster is picked again.
pub(crate) fn refresh_route_cluster(cell: &StreamCell) -> bool {
    match routing_closed(cell) {
        Some(reason) => refused(cell, format_args!("refresh_route_cluster"), &reason),
        None => cell.host.borrow_mut().refresh_route_cluster(),
    }
}

/// `upstream_override_host`.
pub(crate) fn upstream_override_host(cell: &StreamCell, host: &[u8], strict: bool) -> bool {
    let text = String::from_utf8_lossy(host);
    let what = format_args!("upstream_override_host to `{}`", Shown(host));
    if let Some(reason) = routing_closed(cell) {
        return refused(cell, what, &reason);
    }
    if text.parse::<std::net::SocketAddr>().is_err() {
        return refused(
            cell,
            what,
            &"the host must be an IP address with a port (10.0.0.7:8080, [::1]:8080)",
        );
    }
    cell.host.borrow_mut().upstream_override_host(&text, strict)
}

/// The rule of `secret_get`: the value of declared secret `name` now (empty until the proxy
/// has it: SDS delivers it later), a view valid until the hook returns. A name the
/// configuration does not declare is refused, naming those it does: the operator, not the
/// module, decides what a filter may read.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_checked() {
        assert_eq!(name("key", b"decision"), Ok("decision"));
        for bad in [&b""[..], b"a\nb", b"\xff", &[b'k'; validate::MAX_NAME + 1]] {
            assert!(name("key", bad).is_err(), "{bad:?}");
        }
        assert_eq!(value(&envoyx_value::number(1.5)), Ok(MetadataValue::Number(1.5)));
        assert!(value(&envoyx_value::number(f64::NAN)).unwrap_err().contains("not finite"));
        assert!(value(&envoyx_value::string(b"\xff")).unwrap_err().contains("not UTF-8"));
        let forged = value(&envoyx_value::string(b"ok\n[info] forged line")).unwrap_err();
        assert!(forged.contains("control character \\n") && !forged.contains('\n'), "{forged}");
        let long = vec![b'a'; MAX_VALUE + 1];
        assert!(value(&envoyx_value::string(&long)).unwrap_err().contains("more than the bound"));
        let mut odd = envoyx_value::boolean(true);
        odd.kind = 7;
        assert!(value(&odd).unwrap_err().contains("unknown value kind 7"));
    }
}
