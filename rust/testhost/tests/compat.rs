//! The compatibility promise (x/abi.h, "Versioning"), with real binaries: a module compiled
//! against the released ABI 1.0 header (`x/compat/1.0/abi.h`) loads on this host and works. The
//! conformance runners add a Rust module built with the v1.0 SDK from git history.

mod common;

use common::{Counters, c_module_against};
use envoyx_testhost::TestHost;

#[test]
fn a_c_module_built_against_the_1_0_header_runs_on_this_host() {
    let module = c_module_against("x/compat/1.0", "frozen_1_0", &[]);
    let counters = Counters::open(&module);
    let host = TestHost::load(&module, "compat", "").unwrap();
    let loaded = host.filter_config().module();
    assert_eq!((loaded.abi_version().major, loaded.abi_version().minor), (1, 0));
    assert!(loaded.optional_exports().is_empty());
    assert_eq!(envoyx_abi::ENVOYX_ABI_VERSION_MINOR, 1, "this host is newer than the module");
    {
        let mut stream = host.stream();
        stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
        assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
        stream.response_headers(&[(":status", "200")], true);
        assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("200"));
    }
    drop(host);
    // One config created and destroyed; one stream created, completed and destroyed.
    assert_eq!(counters.read(), [1, 1, 1, 1, 1]);
}
