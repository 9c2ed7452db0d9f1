//! What a module's `envoyx_error*` points at during the calls that take one (program init, a
//! configuration's and a per-route configuration's creation): the reason it gives through
//! `error_set`, and, while a configuration is created, that configuration (for
//! `config_handle_new` and `metric_define`).

use envoyx_abi::envoyx_error;

/// Collects the reason a module gives through `error_set`.
#[derive(Default)]
pub(crate) struct ErrorSink {
    pub message: Option<String>,
    /// Inside `envoyx_on_filter_config_new`: the configuration being created, for
    /// `config_handle_new` (the `envoyx_error*` of that call identifies it).
    pub creating: Option<std::sync::Arc<crate::stream::background::ConfigShared>>,
}

std::thread_local! {
    /// The sinks lent to module calls running on this thread, innermost last.
    static LENT: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Takes a lent sink off [`LENT`] when its call returns or unwinds.
struct Lending(usize);

impl Drop for Lending {
    fn drop(&mut self) {
        LENT.with(|lent| lent.borrow_mut().retain(|&address| address != self.0));
    }
}

impl ErrorSink {
    /// Runs `call` (a module hook taking an `envoyx_error*`) with this sink as its ABI pointer.
    /// Host functions take the pointer only while `call` runs, on this thread ([`Self::lent`]):
    /// a module that kept it and passes it later is refused, not handed a dangling pointer.
    pub fn lend<R>(&mut self, call: impl FnOnce(*mut envoyx_error) -> R) -> R {
        let pointer: *mut envoyx_error = (self as *mut Self).cast();
        LENT.with(|lent| lent.borrow_mut().push(pointer as usize));
        let _lending = Lending(pointer as usize);
        call(pointer)
    }

    /// The sink behind `error` if it is lent to a module call running now on this thread;
    /// None for NULL, a pointer kept from an earlier call, or one from another thread.
    ///
    /// # Safety
    /// The returned reference must not outlive the host function the module is calling (the
    /// lending call is still running beneath it, so the sink is alive and not otherwise used).
    pub unsafe fn lent<'a>(error: *mut envoyx_error) -> Option<&'a mut ErrorSink> {
        let address = error as usize;
        let lent = !error.is_null() && LENT.with(|lent| lent.borrow().contains(&address));
        // Safety: lent now on this thread: the sink lives on the stack frame of `lend`, below
        // this host function call (the caller's contract bounds the reference).
        lent.then(|| unsafe { &mut *(error as *mut ErrorSink) })
    }

    pub fn take_or(&mut self, fallback: &str) -> String {
        self.message.take().unwrap_or_else(|| fallback.to_string())
    }
}
