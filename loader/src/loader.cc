// Out-of-line virtual destructors give each interface's vtable one home (this object file)
// instead of a weak copy in every host's translation units; and the view conversions.
#include "envoyx-loader/include/envoyx/loader.h"

#include "envoyx-loader/src/lib.rs.h"

namespace envoyx {

Scheduler::~Scheduler() = default;
StreamHost::~StreamHost() = default;
LogSink::~LogSink() = default;

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
