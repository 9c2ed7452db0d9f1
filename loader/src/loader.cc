// Out-of-line virtual destructors give each interface's vtable one home (this object file)
// instead of a weak copy in every host's translation units; and the view conversions.
#include "envoyx-loader/include/envoyx/loader.h"

#include "envoyx-loader/src/lib.rs.h"

namespace envoyx {

Scheduler::~Scheduler() = default;
ConfigHost::~ConfigHost() = default;
StreamHost::~StreamHost() = default;
LogSink::~LogSink() = default;
Runtime::~Runtime() = default;

// Out of line because rust::Box<CalloutInbox> needs the complete type (the generated header).
bool StreamHost::http_callout(std::uint64_t, Bytes, rust::Slice<const RawHeader>, Bytes, std::uint64_t,
                              rust::Box<CalloutInbox>, std::uint32_t& failure) {
  failure = 2;  // ENVOYX_CALLOUT_UNAVAILABLE
  return false;
}

bool StreamHost::callout_stream_start(std::uint64_t, Bytes, rust::Slice<const RawHeader>, Bytes, bool, std::uint64_t,
                                      rust::Box<CalloutInbox>, std::uint32_t& failure) {
  failure = 2;  // ENVOYX_CALLOUT_UNAVAILABLE
  return false;
}

bool StreamHost::callout_stream_send_trailers(std::uint64_t, rust::Slice<const RawHeader>) { return false; }

// Out of line because RawBytes is complete only in the generated header.
bool StreamHost::filter_state_exists(Bytes key) {
  RawBytes value{};
  return filter_state_get(key, value);
}

std::string_view to_string_view(Bytes bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

RawBytes to_raw_bytes(std::string_view bytes) {
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

RawSlice to_raw_slice(char* data, std::size_t len) {
  return {reinterpret_cast<std::uint8_t*>(data), len};
}

}  // namespace envoyx
