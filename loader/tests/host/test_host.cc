#include "envoyx-loader/tests/host/test_host.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <iterator>
#include <utility>

#include "abi.h"
#include "envoyx-loader/tests/host/mod.rs.h"

namespace envoyx::testhost {
namespace {

bool same_key(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view key) {
  std::string out(key);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Bytes bytes_of(std::string_view text) {
  return Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

rust::Vec<std::uint8_t> byte_vec(std::string_view text) {
  rust::Vec<std::uint8_t> out;
  out.reserve(text.size());
  std::copy(text.begin(), text.end(), std::back_inserter(out));
  return out;
}

std::string string_of(const rust::Vec<std::uint8_t>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

rust::Vec<Header> header_vec(const HeaderMap::Entries& entries) {
  rust::Vec<Header> out;
  for (const auto& [key, value] : entries) out.push_back(Header{rust::String::lossy(key), rust::String::lossy(value)});
  return out;
}

}  // namespace

// ---- SliceBuffer --------------------------------------------------------------------------------

SliceBuffer SliceBuffer::chunked(std::string_view data, std::size_t slice_len) {
  SliceBuffer buffer;
  slice_len = std::max<std::size_t>(slice_len, 1);
  for (std::size_t at = 0; at < data.size(); at += slice_len) buffer.append(data.substr(at, slice_len));
  return buffer;
}

std::size_t SliceBuffer::length() const {
  std::size_t total = 0;
  for (const auto& slice : slices_) total += slice.size();
  return total;
}

std::string SliceBuffer::to_string() const {
  std::string out;
  for (const auto& slice : slices_) out += slice;
  return out;
}

std::vector<const char*> SliceBuffer::addresses() const {
  std::vector<const char*> out;
  for (const auto& slice : slices_) out.push_back(slice.data());
  return out;
}

std::size_t SliceBuffer::views(rust::Slice<RawSlice> out) {
  for (std::size_t i = 0; i < out.size() && i < slices_.size(); ++i) {
    out[i] = to_raw_slice(slices_[i].data(), slices_[i].size());
  }
  return slices_.size();
}

void SliceBuffer::append(std::string_view data) {
  if (!data.empty()) slices_.emplace_back(data);
}

void SliceBuffer::prepend(std::string_view data) {
  if (!data.empty()) slices_.emplace(slices_.begin(), data);
}

void SliceBuffer::drain(std::size_t len) {
  while (len > 0 && !slices_.empty()) {
    std::string& first = slices_.front();
    if (first.size() <= len) {
      len -= first.size();
      slices_.erase(slices_.begin());
    } else {
      first.erase(0, len);
      len = 0;
    }
  }
}

std::size_t SliceBuffer::split_at(std::size_t at) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < slices_.size(); ++i) {
    const std::size_t len = slices_[i].size();
    if (at == start) return i;
    if (at < start + len) {
      std::string tail = slices_[i].substr(at - start);
      slices_[i].resize(at - start);
      slices_.insert(slices_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(tail));
      return i + 1;
    }
    start += len;
  }
  return slices_.size();
}

bool SliceBuffer::replace(std::size_t offset, std::size_t len, std::string_view data) {
  const std::size_t total = length();
  if (offset > total || len > total - offset) return false;
  const std::size_t first = split_at(offset);
  const std::size_t end = split_at(offset + len);
  slices_.erase(slices_.begin() + static_cast<std::ptrdiff_t>(first),
                slices_.begin() + static_cast<std::ptrdiff_t>(end));
  if (!data.empty()) slices_.emplace(slices_.begin() + static_cast<std::ptrdiff_t>(first), data);
  return true;
}

void SliceBuffer::move_from(SliceBuffer& other) {
  std::move(other.slices_.begin(), other.slices_.end(), std::back_inserter(slices_));
  other.slices_.clear();
}

// ---- HeaderMap ----------------------------------------------------------------------------------

HeaderMap::HeaderMap(rust::Slice<const Header> headers) {
  for (const Header& header : headers) {
    entries_.emplace_back(lower(std::string_view(header.key.data(), header.key.size())),
                          std::string(header.value.data(), header.value.size()));
  }
}

std::size_t HeaderMap::value_views(std::string_view key, rust::Slice<RawBytes> out) const {
  std::size_t count = 0;
  for (const auto& [k, v] : entries_) {
    if (!same_key(k, key)) continue;
    if (count < out.size()) out[count] = to_raw_bytes(v);
    ++count;
  }
  return count;
}

std::size_t HeaderMap::entry_views(rust::Slice<RawHeader> out) const {
  for (std::size_t i = 0; i < out.size() && i < entries_.size(); ++i) {
    out[i] = RawHeader{to_raw_bytes(entries_[i].first), to_raw_bytes(entries_[i].second)};
  }
  return entries_.size();
}

void HeaderMap::set(std::string_view key, std::string_view value) {
  auto first = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return same_key(e.first, key); });
  if (first == entries_.end()) return add(key, value);
  first->second = std::string(value);
  // Drop the key's later values, keeping the first entry where it is.
  const auto keep = static_cast<std::size_t>(first - entries_.begin());
  std::size_t i = 0;
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const auto& e) { return i++ != keep && same_key(e.first, key); }),
                 entries_.end());
}

// The core hands over names already checked and lower-cased.
void HeaderMap::add(std::string_view key, std::string_view value) { entries_.emplace_back(key, value); }

std::size_t HeaderMap::remove(std::string_view key) {
  const std::size_t before = entries_.size();
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const auto& e) { return same_key(e.first, key); }),
                 entries_.end());
  return before - entries_.size();
}

// ---- Stream state -------------------------------------------------------------------------------

void Side::forward_headers() {
  if (headers_forwarded) return;
  headers_forwarded = true;
  headers_sent = headers;
}

void Side::release() {
  forward_headers();
  body_forwarded += buffered.to_string();
  buffered = SliceBuffer();
  if (trailers_held) {
    trailers_held = false;
    trailers_forwarded = true;
  }
}

Side& StreamData::side(Direction direction) { return direction == Direction::Request ? request : response; }

std::optional<HeaderMap>& StreamData::map(HeaderMapKind map) {
  switch (map) {
    case HeaderMapKind::RequestHeaders:
      return request.headers;
    case HeaderMapKind::RequestTrailers:
      return request.trailers;
    case HeaderMapKind::ResponseHeaders:
      return response.headers;
    case HeaderMapKind::ResponseTrailers:
      break;
  }
  return response.trailers;
}

SliceBuffer& StreamData::body(BodyKind body) {
  switch (body) {
    case BodyKind::RequestReceived:
      return request.received;
    case BodyKind::RequestBuffered:
      return request.buffered;
    case BodyKind::ResponseReceived:
      return response.received;
    case BodyKind::ResponseBuffered:
      break;
  }
  return response.buffered;
}

// ---- WorkerQueue --------------------------------------------------------------------------------

void WorkerQueue::wake() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++pending_;
  }
  ready_.notify_all();
}

std::size_t WorkerQueue::take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return pending_ > 0; });
  return std::exchange(pending_, 0);
}

// ---- TestStreamHost -----------------------------------------------------------------------------

TestStreamHost::TestStreamHost(std::shared_ptr<StreamData> data, std::shared_ptr<WorkerQueue> queue,
                               std::shared_ptr<WorkerQueue> metrics)
    : data_(std::move(data)), queue_(std::move(queue)), metrics_(std::move(metrics)) {}

bool TestStreamHost::header_values(HeaderMapKind map, Bytes key, rust::Slice<RawBytes> out, std::size_t& total) {
  auto& headers = data_->map(map);
  if (!headers) return false;
  total = headers->value_views(to_string_view(key), out);
  return true;
}

bool TestStreamHost::header_entries(HeaderMapKind map, rust::Slice<RawHeader> out, std::size_t& total) {
  auto& headers = data_->map(map);
  if (!headers) return false;
  total = headers->entry_views(out);
  return true;
}

bool TestStreamHost::header_set(HeaderMapKind map, Bytes key, Bytes value) {
  auto& headers = data_->map(map);
  if (!headers) return false;
  headers->set(to_string_view(key), to_string_view(value));
  return true;
}

bool TestStreamHost::header_add(HeaderMapKind map, Bytes key, Bytes value) {
  auto& headers = data_->map(map);
  if (!headers) return false;
  headers->add(to_string_view(key), to_string_view(value));
  return true;
}

std::size_t TestStreamHost::header_remove(HeaderMapKind map, Bytes key) {
  auto& headers = data_->map(map);
  return headers ? headers->remove(to_string_view(key)) : 0;
}

bool TestStreamHost::body_length(BodyKind body, std::size_t& length) {
  length = data_->body(body).length();
  return true;
}

bool TestStreamHost::body_slices(BodyKind body, rust::Slice<RawSlice> out, std::size_t& total) {
  total = data_->body(body).views(out);
  return true;
}

bool TestStreamHost::body_drain(BodyKind body, std::size_t len) {
  data_->body(body).drain(len);
  return true;
}

bool TestStreamHost::body_append(BodyKind body, Bytes data) {
  data_->body(body).append(to_string_view(data));
  return true;
}

bool TestStreamHost::body_prepend(BodyKind body, Bytes data) {
  data_->body(body).prepend(to_string_view(data));
  return true;
}

bool TestStreamHost::body_replace(BodyKind body, std::size_t offset, std::size_t len, Bytes data) {
  return data_->body(body).replace(offset, len, to_string_view(data));
}

std::shared_ptr<Scheduler> TestStreamHost::scheduler() const { return queue_; }

namespace {

// A callout as the test sees it.
PendingCall recorded(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers, Bytes body) {
  PendingCall call;
  call.id = id;
  call.cluster = rust::String::lossy(reinterpret_cast<const char*>(cluster.data()), cluster.size());
  for (const RawHeader& h : headers) {
    call.headers.push_back(Header{rust::String::lossy(reinterpret_cast<const char*>(h.key.ptr), h.key.len),
                                  rust::String::lossy(reinterpret_cast<const char*>(h.value.ptr), h.value.len)});
  }
  for (std::uint8_t b : body) call.body.push_back(b);
  call.streaming = false;
  call.request_ended = true;
  return call;
}

// Calls `deliver` with the test's answer as the host's views of it.
template <class Deliver>
void with_views(rust::Slice<const Header> headers, rust::Slice<const std::uint8_t> body, Deliver deliver) {
  std::vector<RawHeader> views;
  for (const Header& h : headers) {
    views.push_back(RawHeader{RawBytes{reinterpret_cast<const std::uint8_t*>(h.key.data()), h.key.size()},
                              RawBytes{reinterpret_cast<const std::uint8_t*>(h.value.data()), h.value.size()}});
  }
  std::vector<RawBytes> chunks;
  if (!body.empty()) chunks.push_back(RawBytes{body.data(), body.size()});
  deliver(rust::Slice<const RawHeader>(views.data(), views.size()),
          rust::Slice<const RawBytes>(chunks.data(), chunks.size()));
}

}  // namespace

bool TestStreamHost::http_callout(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                                  Bytes body, std::uint64_t, rust::Box<CalloutInbox> inbox, std::uint32_t&) {
  if (to_string_view(cluster) == kUnhealthyCluster) {
    const RawHeader status{to_raw_bytes(":status"), to_raw_bytes("503")};
    const RawBytes chunk = to_raw_bytes(kNoHealthyUpstream);
    inbox->defer_answer(id, 0 /* ENVOYX_CALLOUT_RESPONSE */, rust::Slice<const RawHeader>(&status, 1),
                        rust::Slice<const RawBytes>(&chunk, 1));
    return true;
  }
  data_->callouts.push_back(recorded(id, cluster, headers, body));
  return true;
}

bool TestStreamHost::callout_stream_start(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                                          Bytes body, bool end_of_stream, std::uint64_t, rust::Box<CalloutInbox> inbox,
                                          std::uint32_t&) {
  if (to_string_view(cluster) == kUnhealthyCluster) {
    const RawHeader status{to_raw_bytes(":status"), to_raw_bytes("503")};
    const RawBytes chunk = to_raw_bytes(kNoHealthyUpstream);
    inbox->defer(id, ENVOYX_CALLOUT_EVENT_HEADERS, ENVOYX_CALLOUT_RESPONSE, rust::Slice<const RawHeader>(&status, 1),
                 {}, false);
    inbox->defer(id, ENVOYX_CALLOUT_EVENT_DATA, ENVOYX_CALLOUT_RESPONSE, {}, rust::Slice<const RawBytes>(&chunk, 1),
                 true);
    inbox->defer(id, ENVOYX_CALLOUT_EVENT_COMPLETE, ENVOYX_CALLOUT_RESPONSE, {}, {}, true);
    return true;
  }
  PendingCall call = recorded(id, cluster, headers, body);
  call.streaming = true;
  call.request_ended = end_of_stream;
  data_->callouts.push_back(std::move(call));
  return true;
}

PendingCall* TestStreamHost::open_stream(std::uint64_t id) {
  for (PendingCall& call : data_->callouts) {
    if (call.id == id && call.streaming) return &call;
  }
  return nullptr;
}

bool TestStreamHost::callout_stream_send(std::uint64_t id, Bytes data, bool end_of_stream) {
  PendingCall* call = open_stream(id);
  if (call == nullptr) return false;
  for (std::uint8_t b : data) call->body.push_back(b);
  call->request_ended = call->request_ended || end_of_stream;
  return true;
}

bool TestStreamHost::trailers_add(HeaderMapKind map) {
  if (map != HeaderMapKind::RequestTrailers && map != HeaderMapKind::ResponseTrailers) {
    return false;
  }
  Side& side = data_->side(map == HeaderMapKind::RequestTrailers ? Direction::Request : Direction::Response);
  if (!side.trailers.has_value()) {
    side.trailers.emplace();
    side.trailers_held = true;
  }
  return true;
}

bool TestStreamHost::callout_stream_send_trailers(std::uint64_t id, rust::Slice<const RawHeader>) {
  PendingCall* call = open_stream(id);
  if (call == nullptr) return false;
  call->request_ended = true;
  return true;
}

void TestStreamHost::callout_stream_reset(std::uint64_t id) {
  auto& calls = data_->callouts;
  calls.erase(std::remove_if(calls.begin(), calls.end(), [id](const PendingCall& c) { return c.id == id; }),
              calls.end());
}

bool TestStreamHost::metric_record(std::uint64_t id, std::uint32_t, std::uint32_t op,
                                   rust::Slice<const RawBytes> label_values, std::uint64_t value) {
  return metrics_ != nullptr && metrics_->record_metric(id, op, label_values, value);
}

bool TestStreamHost::metadata_set(Bytes ns, Bytes key, std::uint32_t kind, Bytes string, double number,
                                  bool boolean) {
  StreamData::Value value{kind, std::string(to_string_view(string)), number, boolean};
  data_->metadata[{ENVOYX_METADATA_DYNAMIC, std::string(to_string_view(ns)), std::string(to_string_view(key))}] =
      std::move(value);
  return true;
}

bool TestStreamHost::metadata_get(std::uint32_t source, Bytes ns, Bytes key, std::uint32_t kind, RawBytes& string,
                                  double& number, bool& boolean) {
  auto it = data_->metadata.find({source, std::string(to_string_view(ns)), std::string(to_string_view(key))});
  if (it == data_->metadata.end() || it->second.kind != kind) return false;
  // A view of the map's string: it stays put until the entry changes.
  string = to_raw_bytes(it->second.string);
  number = it->second.number;
  boolean = it->second.boolean;
  return true;
}

std::size_t TestStreamHost::metadata_names(std::uint32_t source, Bytes ns, bool keys, rust::Slice<RawBytes> out) {
  std::size_t total = 0;
  const std::string* last = nullptr;
  for (const auto& [at, value] : data_->metadata) {
    const auto& [entry_source, entry_ns, entry_key] = at;
    if (entry_source != source || (keys && entry_ns != to_string_view(ns))) continue;
    const std::string& name = keys ? entry_key : entry_ns;
    if (!keys && last != nullptr && *last == name) continue;  // one per namespace (the map is sorted)
    last = &name;
    if (total < out.size()) out[total] = to_raw_bytes(name);
    ++total;
  }
  return total;
}

// Sets `key` read-only, as Envoy does: a set over an existing key changes nothing and counts as
// a proxy bug.
static bool set_read_only(StreamData& data, std::string key, std::optional<std::string> value) {
  if (data.filter_state.count(key) != 0) {
    ++data.envoy_bugs;
    return false;
  }
  data.filter_state.emplace(std::move(key), std::move(value));
  return true;
}

bool TestStreamHost::filter_state_set(Bytes key, Bytes value) {
  return set_read_only(*data_, std::string(to_string_view(key)), std::string(to_string_view(value)));
}

bool TestStreamHost::filter_state_get(Bytes key, RawBytes& value) {
  auto it = data_->filter_state.find(std::string(to_string_view(key)));
  if (it == data_->filter_state.end() || !it->second.has_value()) return false;
  value = to_raw_bytes(*it->second);
  return true;
}

bool TestStreamHost::filter_state_set_typed(Bytes key, Bytes value) {
  static const std::vector<std::string_view> factories = {
      "envoy.network.upstream_server_name", "envoy.network.application_protocols",
      "envoy.network.upstream_subject_alt_names", "envoy.tcp_proxy.cluster"};
  const std::string name(to_string_view(key));
  if (name == "envoy.string") {
    return set_read_only(*data_, name, std::string(to_string_view(value)));
  }
  if (std::find(factories.begin(), factories.end(), name) == factories.end() ||
      !set_read_only(*data_, name, std::nullopt)) {
    return false;
  }
  data_->filter_state_serialized[name] = std::string(to_string_view(value));
  return true;
}

bool TestStreamHost::filter_state_serialized(Bytes key, RawBytes& value) {
  const std::string name(to_string_view(key));
  auto it = data_->filter_state.find(name);
  if (it == data_->filter_state.end()) return false;
  if (it->second.has_value()) {
    value = to_raw_bytes(*it->second);
    return true;
  }
  auto form = data_->filter_state_serialized.find(name);
  if (form == data_->filter_state_serialized.end()) return false;
  value = to_raw_bytes(form->second);
  return true;
}

bool TestStreamHost::filter_state_exists(Bytes key) {
  return data_->filter_state.count(std::string(to_string_view(key))) != 0;
}

bool TestStreamHost::attribute_get(std::uint32_t attribute, RawBytes& string, double& number) {
  static const std::string source = "127.0.0.1:50000", destination = "127.0.0.1:10000";
  static const std::string request_id = "cxx-testhost", protocol = "HTTP/1.1";
  switch (attribute) {
    case ENVOYX_ATTRIBUTE_SOURCE_ADDRESS:
      string = to_raw_bytes(source);
      return true;
    case ENVOYX_ATTRIBUTE_SOURCE_PORT:
      number = 50000;
      return true;
    case ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS:
      string = to_raw_bytes(destination);
      return true;
    case ENVOYX_ATTRIBUTE_DESTINATION_PORT:
      number = 10000;
      return true;
    case ENVOYX_ATTRIBUTE_REQUEST_ID:
      string = to_raw_bytes(request_id);
      return true;
    case ENVOYX_ATTRIBUTE_PROTOCOL:
      string = to_raw_bytes(protocol);
      return true;
    case ENVOYX_ATTRIBUTE_CONNECTION_ID:
      number = 1;
      return true;
    case ENVOYX_ATTRIBUTE_RESPONSE_CODE: {
      const auto& headers = data_->response.headers;
      if (!headers.has_value()) return false;
      for (const auto& [key, value] : headers->entries()) {
        if (key == ":status") {
          number = std::stod(value);
          return true;
        }
      }
      return false;
    }
    case ENVOYX_ATTRIBUTE_REQUEST_METHOD:
    case ENVOYX_ATTRIBUTE_REQUEST_PATH:
    case ENVOYX_ATTRIBUTE_REQUEST_HOST:
    case ENVOYX_ATTRIBUTE_REQUEST_SCHEME: {
      // The request line, from the request headers as they are now (the views point into them).
      const char* name = attribute == ENVOYX_ATTRIBUTE_REQUEST_METHOD ? ":method"
                         : attribute == ENVOYX_ATTRIBUTE_REQUEST_PATH ? ":path"
                         : attribute == ENVOYX_ATTRIBUTE_REQUEST_HOST ? ":authority"
                                                                       : ":scheme";
      const auto& headers = data_->request.headers;
      if (!headers.has_value()) return false;
      for (const auto& [key, value] : headers->entries()) {
        if (key == name) {
          string = to_raw_bytes(value);
          return true;
        }
      }
      return false;
    }
    default:
      return false;
  }
}

bool TestStreamHost::clear_route_cache() {
  ++data_->route_cache_cleared;
  return true;
}

bool TestStreamHost::refresh_route_cluster() {
  ++data_->route_cluster_refreshed;
  return true;
}

bool TestStreamHost::upstream_override_host(Bytes host, bool strict) {
  data_->upstream_host.emplace(std::string(to_string_view(host)), strict);
  return true;
}

bool WorkerQueue::http_callout(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers, Bytes body,
                               std::uint64_t, std::uint32_t&) const {
  std::lock_guard<std::mutex> lock(mutex_);
  callouts_.push_back(recorded(id, cluster, headers, body));
  return true;
}

bool WorkerQueue::callout_stream_start(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                                       Bytes body, bool end_of_stream, std::uint64_t, std::uint32_t&) const {
  PendingCall call = recorded(id, cluster, headers, body);
  call.streaming = true;
  call.request_ended = end_of_stream;
  std::lock_guard<std::mutex> lock(mutex_);
  callouts_.push_back(std::move(call));
  return true;
}

bool WorkerQueue::callout_stream_send(std::uint64_t id, Bytes data, bool end_of_stream) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (PendingCall& call : callouts_) {
    if (call.id == id && call.streaming) {
      for (std::uint8_t b : data) call.body.push_back(b);
      call.request_ended = call.request_ended || end_of_stream;
      return true;
    }
  }
  return false;
}

bool WorkerQueue::callout_stream_send_trailers(std::uint64_t id, rust::Slice<const RawHeader>) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (PendingCall& call : callouts_) {
    if (call.id == id && call.streaming) {
      call.request_ended = true;
      return true;
    }
  }
  return false;
}

void WorkerQueue::callout_stream_reset(std::uint64_t id) const { forget_callout(id); }

namespace {

// The process's generic secrets, by name, and the subscriptions (id = index + 1).
struct SecretStore {
  std::mutex mutex;
  std::map<std::string, std::string> values;
  std::vector<std::string> subscribed;
};

SecretStore& secret_store() {
  static SecretStore store;
  return store;
}

}  // namespace

void set_secret(rust::Str name, rust::Str value) {
  SecretStore& store = secret_store();
  std::lock_guard<std::mutex> lock(store.mutex);
  store.values[std::string(name)] = std::string(value);
}

bool WorkerQueue::subscribe_secret(Bytes name, Bytes sds_config, std::uint64_t& id) const {
  SecretStore& store = secret_store();
  std::lock_guard<std::mutex> lock(store.mutex);
  const std::string key(to_string_view(name));
  if (sds_config.empty() && store.values.count(key) == 0) {
    return false;
  }
  store.subscribed.push_back(key);
  id = store.subscribed.size();
  return true;
}

bool TestStreamHost::secret_get(std::uint64_t id, RawBytes& value) {
  SecretStore& store = secret_store();
  {
    std::lock_guard<std::mutex> lock(store.mutex);
    if (id == 0 || id > store.subscribed.size()) {
      return false;
    }
    auto found = store.values.find(store.subscribed[id - 1]);
    data_->secret_read = found == store.values.end() ? std::string() : found->second;
  }
  value = to_raw_bytes(data_->secret_read);
  return true;
}

bool WorkerQueue::define_metric(std::uint32_t kind, Bytes name, rust::Slice<const RawBytes>,
                                std::uint64_t& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  metric_defs_.emplace_back(kind, std::string(to_string_view(name)));
  id = metric_defs_.size();
  return true;
}

bool WorkerQueue::record_metric(std::uint64_t id, std::uint32_t op, rust::Slice<const RawBytes> label_values,
                                std::uint64_t value) const {
  std::vector<std::string> labels;
  for (const RawBytes& v : label_values) labels.emplace_back(reinterpret_cast<const char*>(v.ptr), v.len);
  std::lock_guard<std::mutex> lock(mutex_);
  if (id == 0 || id > metric_defs_.size()) return false;
  auto& values = metric_values_[{id, labels}];
  const auto signed_value = static_cast<std::int64_t>(value);
  switch (op) {
    case ENVOYX_METRIC_RECORD:
      values.push_back(signed_value);
      break;
    case ENVOYX_METRIC_SET:
      values.assign(1, signed_value);
      break;
    default: {
      if (values.empty()) values.push_back(0);
      values[0] += op == ENVOYX_METRIC_SUBTRACT ? -signed_value : signed_value;
    }
  }
  return true;
}

std::string WorkerQueue::metric(std::string_view name, const std::vector<std::string>& label_values) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < metric_defs_.size(); ++i) {
    if (metric_defs_[i].second != name) continue;
    auto it = metric_values_.find({i + 1, label_values});
    if (it == metric_values_.end()) return "";
    static const char* const kinds[] = {"counter", "gauge", "histogram"};
    std::string out = std::string(kinds[metric_defs_[i].first % 3]) + " ";
    for (std::size_t v = 0; v < it->second.size(); ++v) {
      out += (v ? "," : "") + std::to_string(it->second[v]);
    }
    return out;
  }
  return "";
}

std::vector<PendingCall> WorkerQueue::pending_callouts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return callouts_;
}

void WorkerQueue::forget_callout(std::uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  callouts_.erase(std::remove_if(callouts_.begin(), callouts_.end(), [id](const PendingCall& c) { return c.id == id; }),
                  callouts_.end());
}

const RouteConfig* TestStreamHost::route_config() const {
  return data_->route ? &**data_->route : nullptr;
}

// ---- TestStream ---------------------------------------------------------------------------------

TestStream::TestStream(const FilterConfig& config, std::shared_ptr<WorkerQueue> metrics)
    : data_(std::make_shared<StreamData>()),
      queue_(std::make_shared<WorkerQueue>()),
      metrics_(std::move(metrics)),
      stream_(config.new_stream(std::make_unique<TestStreamHost>(data_, queue_, metrics_))) {}

void TestStream::start_over() {
  ++data_->recreated;
  HeaderMap request = data_->request.headers.value_or(HeaderMap());
  {
    rust::Box<Stream> replaced = stream_->new_like(std::make_unique<TestStreamHost>(data_, queue_, metrics_));
    std::swap(stream_, replaced);
    // The old stream ends here (its complete and destroy hooks), as Envoy ends it.
  }
  // The request as it was; everything else as for a new stream.
  data_->request = Side();
  data_->response = Side();
  data_->local_reply.reset();
  data_->module_response_ended = false;
  data_->ended = false;
  deliver_headers(Direction::Request, std::move(request), true);
}

void TestStream::carry_out() {
  for (;;) {
    const NextAction action = stream_->next_action();
    switch (action.kind) {
      case ActionKind::Reset:
        data_->reset = true;
        data_->reset_refused = action.reset_reason == ResetReason::Refused;
        data_->ended = true;
        break;
      case ActionKind::GoAway:
        // As Envoy's sendGoAwayAndClose: the stream ends (reset) with its connection.
        data_->reset = true;
        data_->goaway = action.end_of_stream ? 2 : 1;
        data_->ended = true;
        break;
      case ActionKind::LocalReply:
        // As in Envoy, every filter hears of the reply first, this one included.
        if (stream_->on_local_reply(action.reply.status,
                                    rust::Slice<const std::uint8_t>(action.reply.details.data(),
                                                                    action.reply.details.size()),
                                    false) == ENVOYX_LOCAL_REPLY_RESET) {
          data_->reset = true;
          data_->ended = true;
          break;
        }
        send_local_reply(action.reply);
        break;
      case ActionKind::Continue: {
        Side& side = data_->side(action.direction);
        ++side.continues;
        side.release();
        break;
      }
      // The module's own response (ABI 1.2): as in Envoy, each part runs through this filter's
      // response hooks (which the core passes through) on its way to the client.
      case ActionKind::Recreate:
        start_over();
        return;  // the new stream's own call carried out its actions
      case ActionKind::AnswerHeaders: {
        HeaderMap response;
        response.add(":status", std::to_string(action.reply.status));
        for (const ReplyHeader& header : action.reply.headers) {
          response.add(string_of(header.key), string_of(header.value));
        }
        data_->module_response_ended = action.end_of_stream;
        deliver_headers(Direction::Response, std::move(response), action.end_of_stream);
        break;
      }
      case ActionKind::AnswerData: {
        const std::string data = string_of(action.reply.body);
        data_->module_response_ended = action.end_of_stream;
        deliver_body(Direction::Response, SliceBuffer::chunked(data, data.size()),
                     action.end_of_stream);
        break;
      }
      case ActionKind::AnswerTrailers: {
        HeaderMap trailers;
        for (const ReplyHeader& header : action.reply.headers) {
          trailers.add(string_of(header.key), string_of(header.value));
        }
        data_->module_response_ended = true;
        deliver_trailers(Direction::Response, std::move(trailers));
        break;
      }
      default:  // ActionKind::None: nothing (more) to do
        return;
    }
  }
}

void TestStream::send_local_reply(const envoyx::LocalReply& reply) {
  SentReply sent{reply.status, {}, string_of(reply.body), string_of(reply.details)};
  for (const ReplyHeader& header : reply.headers) {
    sent.headers.emplace_back(string_of(header.key), string_of(header.value));
  }
  // As in Envoy: the reply replaces whatever response there was, and its headers (with :status)
  // and body run through this filter's response hooks, which the core passes through.
  HeaderMap response;
  response.add(":status", std::to_string(reply.status));
  for (const auto& [key, value] : sent.headers) response.add(key, value);
  const std::string body = sent.body;
  data_->local_reply = std::move(sent);
  data_->response = Side();
  deliver_headers(Direction::Response, std::move(response), body.empty());
  if (!body.empty()) deliver_body(Direction::Response, SliceBuffer::chunked(body, body.size()), true);
  data_->ended = true;
}

std::uint32_t TestStream::deliver_headers(Direction direction, HeaderMap headers, bool end_of_stream) {
  if (data_->ended) return ENVOYX_HEADERS_STOP_ITERATION;
  data_->side(direction).headers = std::move(headers);
  const std::uint32_t status = direction == Direction::Request ? stream_->on_request_headers(end_of_stream)
                                                               : stream_->on_response_headers(end_of_stream);
  if (status == ENVOYX_HEADERS_CONTINUE || status == ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM) {
    data_->side(direction).forward_headers();
  }
  carry_out();
  return status;
}

std::uint32_t TestStream::deliver_body(Direction direction, SliceBuffer chunk, bool end_of_stream) {
  if (data_->ended) return ENVOYX_BODY_STOP_ITERATION_NO_BUFFER;
  const std::vector<const char*> delivered = chunk.addresses();
  data_->side(direction).received = std::move(chunk);
  const std::uint32_t status = direction == Direction::Request ? stream_->on_request_body(end_of_stream)
                                                               : stream_->on_response_body(end_of_stream);
  Side& side = data_->side(direction);
  SliceBuffer received = std::move(side.received);
  side.received = SliceBuffer();
  last_chunk_kept_its_memory_ = received.addresses() == delivered;
  switch (status) {
    case ENVOYX_BODY_CONTINUE:
      side.buffered.move_from(received);
      side.release();
      break;
    case ENVOYX_BODY_STOP_ITERATION_AND_BUFFER:
    case ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK:
      side.buffered.move_from(received);
      break;
    default:  // STOP_ITERATION_NO_BUFFER: the chunk is dropped
      break;
  }
  carry_out();
  return status;
}

std::uint32_t TestStream::deliver_trailers(Direction direction, HeaderMap trailers) {
  if (data_->ended) return ENVOYX_TRAILERS_STOP_ITERATION;
  data_->side(direction).trailers = std::move(trailers);
  const std::uint32_t status =
      direction == Direction::Request ? stream_->on_request_trailers() : stream_->on_response_trailers();
  Side& side = data_->side(direction);
  side.trailers_held = true;
  if (status == ENVOYX_TRAILERS_CONTINUE) side.release();
  carry_out();
  return status;
}

namespace {

SliceBuffer from_slices(rust::Slice<const rust::String> slices) {
  SliceBuffer buffer;
  for (const rust::String& slice : slices) buffer.append(std::string_view(slice.data(), slice.size()));
  return buffer;
}

Direction direction_of(std::uint32_t direction) { return static_cast<Direction>(direction); }

}  // namespace

std::uint32_t TestStream::request_headers(rust::Slice<const Header> headers, bool end_of_stream) {
  return deliver_headers(Direction::Request, HeaderMap(headers), end_of_stream);
}

std::uint32_t TestStream::request_body(rust::Slice<const rust::String> slices, bool end_of_stream) {
  return deliver_body(Direction::Request, from_slices(slices), end_of_stream);
}

std::uint32_t TestStream::request_body_chunked(rust::Slice<const std::uint8_t> data, std::size_t slice_len,
                                               bool end_of_stream) {
  return deliver_body(Direction::Request, SliceBuffer::chunked(to_string_view(data), slice_len), end_of_stream);
}

std::uint32_t TestStream::request_trailers(rust::Slice<const Header> trailers) {
  return deliver_trailers(Direction::Request, HeaderMap(trailers));
}

std::uint32_t TestStream::response_headers(rust::Slice<const Header> headers, bool end_of_stream) {
  return deliver_headers(Direction::Response, HeaderMap(headers), end_of_stream);
}

std::uint32_t TestStream::response_body(rust::Slice<const rust::String> slices, bool end_of_stream) {
  return deliver_body(Direction::Response, from_slices(slices), end_of_stream);
}

std::uint32_t TestStream::response_trailers(rust::Slice<const Header> trailers) {
  return deliver_trailers(Direction::Response, HeaderMap(trailers));
}

void TestStream::complete() { stream_->on_stream_complete(); }

rust::Vec<PendingCall> TestStream::pending_callouts() const {
  rust::Vec<PendingCall> out;
  for (const PendingCall& call : data_->callouts) out.push_back(call);
  return out;
}

void TestStream::answer_callout(std::uint64_t id, std::uint32_t status, rust::Slice<const Header> headers,
                                rust::Slice<const std::uint8_t> body) {
  auto& calls = data_->callouts;
  calls.erase(std::remove_if(calls.begin(), calls.end(), [id](const PendingCall& c) { return c.id == id; }),
              calls.end());
  with_views(headers, body, [&](rust::Slice<const RawHeader> views, rust::Slice<const RawBytes> chunks) {
    stream_->on_callout_done(id, status, views, chunks);
  });
  carry_out();
}

void TestStream::callout_stream_event(std::uint64_t id, std::uint32_t event, std::uint32_t status,
                                      rust::Slice<const Header> headers, rust::Slice<const std::uint8_t> body,
                                      bool end_of_stream) {
  if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
    auto& calls = data_->callouts;
    calls.erase(std::remove_if(calls.begin(), calls.end(), [id](const PendingCall& c) { return c.id == id; }),
                calls.end());
  }
  with_views(headers, body, [&](rust::Slice<const RawHeader> views, rust::Slice<const RawBytes> chunks) {
    stream_->on_callout_event(id, event, status, views, chunks, end_of_stream);
  });
  carry_out();
}

void TestStream::preset_filter_state(rust::Str key, rust::Slice<const std::uint8_t> value, bool is_string) {
  std::string bytes(reinterpret_cast<const char*>(value.data()), value.size());
  if (is_string) {
    set_read_only(*data_, std::string(key), std::move(bytes));
  } else if (set_read_only(*data_, std::string(key), std::nullopt) && !bytes.empty()) {
    data_->filter_state_serialized[std::string(key)] = std::move(bytes);  // the object's form
  }
}

std::uint32_t TestStream::envoy_bugs() const { return data_->envoy_bugs; }

void TestStream::set_route(rust::Str json) {
  data_->route.emplace(route_config_from_json(bytes_of(std::string_view(json.data(), json.size()))));
}

std::size_t TestStream::run_scheduled(std::uint64_t timeout_ms) {
  const std::size_t pending = queue_->take(std::chrono::milliseconds(timeout_ms));
  for (std::size_t i = 0; i < pending; ++i) {
    stream_->on_scheduled();
    carry_out();
  }
  return pending;
}

rust::Vec<Header> TestStream::headers(std::uint32_t map) const {
  const auto kind = static_cast<HeaderMapKind>(map);
  if (kind == HeaderMapKind::RequestHeaders || kind == HeaderMapKind::ResponseHeaders) {
    const Side& side = data_->side(kind == HeaderMapKind::RequestHeaders ? Direction::Request : Direction::Response);
    if (side.headers_sent) return header_vec(side.headers_sent->entries());
  }
  return current_headers(map);
}

rust::Vec<Header> TestStream::current_headers(std::uint32_t map) const {
  const auto& headers = data_->map(static_cast<HeaderMapKind>(map));
  return headers ? header_vec(headers->entries()) : rust::Vec<Header>();
}

bool TestStream::headers_forwarded(std::uint32_t direction) const {
  return data_->side(direction_of(direction)).headers_forwarded;
}

bool TestStream::trailers_forwarded(std::uint32_t direction) const {
  return data_->side(direction_of(direction)).trailers_forwarded;
}

rust::Vec<std::uint8_t> TestStream::body_forwarded(std::uint32_t direction) const {
  return byte_vec(data_->side(direction_of(direction)).body_forwarded);
}

rust::Vec<std::uint8_t> TestStream::body_buffered(std::uint32_t direction) const {
  return byte_vec(data_->side(direction_of(direction)).buffered.to_string());
}

bool TestStream::proxy_local_reply(std::uint32_t status, rust::Str details, rust::Str body) {
  const std::string_view details_view(details.data(), details.size());
  if (stream_->on_local_reply(status,
                              rust::Slice<const std::uint8_t>(
                                  reinterpret_cast<const std::uint8_t*>(details_view.data()), details_view.size()),
                              false) == ENVOYX_LOCAL_REPLY_RESET) {
    data_->reset = true;
    data_->ended = true;
    return false;
  }
  // As Envoy sends a reply made after this filter: it runs through this filter's response hooks.
  const std::string text(body.data(), body.size());
  HeaderMap response;
  response.add(":status", std::to_string(status));
  if (!text.empty()) response.add("content-type", "text/plain");
  data_->response = Side();
  deliver_headers(Direction::Response, std::move(response), text.empty());
  if (!text.empty()) deliver_body(Direction::Response, SliceBuffer::chunked(text, text.size()), true);
  data_->ended = true;
  return true;
}

void TestStream::watermark(std::uint32_t direction, bool above) {
  stream_->on_watermark(direction_of(direction), above);
}

std::uint32_t TestStream::continues(std::uint32_t direction) const {
  return data_->side(direction_of(direction)).continues;
}

RecordedReply TestStream::local_reply() const {
  if (!data_->local_reply) return RecordedReply{false, 0, {}, {}, {}};
  const SentReply& reply = *data_->local_reply;
  return RecordedReply{true, reply.status, header_vec(reply.headers), byte_vec(reply.body),
                       rust::String::lossy(reply.details)};
}

bool TestStream::was_reset() const { return data_->reset; }

bool TestStream::reset_refused() const { return data_->reset_refused; }

bool TestStream::module_response_ended() const { return data_->module_response_ended; }

std::uint64_t TestStream::body_bytes_copied() const { return stream_->body_bytes_copied(); }

// ---- TestFilter and loading ---------------------------------------------------------------------

TestFilter::TestFilter(rust::Box<FilterConfig> config, std::shared_ptr<WorkerQueue> background)
    : config_(std::move(config)), background_(std::move(background)) {}

rust::Vec<PendingCall> TestFilter::pending_config_callouts() const {
  rust::Vec<PendingCall> out;
  for (const PendingCall& call : background_->pending_callouts()) out.push_back(call);
  return out;
}

void TestFilter::answer_config_callout(std::uint64_t id, std::uint32_t status, rust::Slice<const Header> headers,
                                       rust::Slice<const std::uint8_t> body) const {
  background_->forget_callout(id);
  with_views(headers, body, [&](rust::Slice<const RawHeader> views, rust::Slice<const RawBytes> chunks) {
    config_->on_callout_done(id, status, views, chunks);
  });
}

void TestFilter::config_callout_stream_event(std::uint64_t id, std::uint32_t event, std::uint32_t status,
                                             rust::Slice<const Header> headers, rust::Slice<const std::uint8_t> body,
                                             bool end_of_stream) const {
  if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
    background_->forget_callout(id);
  }
  with_views(headers, body, [&](rust::Slice<const RawHeader> views, rust::Slice<const RawBytes> chunks) {
    config_->on_callout_event(id, event, status, views, chunks, end_of_stream);
  });
}

rust::String TestFilter::metric(rust::Str name, rust::Slice<const rust::String> label_values) const {
  std::vector<std::string> labels;
  for (const rust::String& v : label_values) labels.emplace_back(v.data(), v.size());
  return rust::String(background_->metric(std::string_view(name.data(), name.size()), labels));
}

std::size_t TestFilter::run_config_scheduled(std::uint64_t timeout_ms) const {
  const std::size_t pending = background_->take(std::chrono::milliseconds(timeout_ms));
  for (std::size_t i = 0; i < pending; ++i) {
    config_->on_scheduled();
  }
  return pending;
}

rust::String TestFilter::name() const { return rust::String::lossy(std::string(config_->name())); }

rust::String TestFilter::module_path() const { return config_->module_path(); }

std::unique_ptr<TestStream> TestFilter::stream() const {
  return std::make_unique<TestStream>(*config_, background_);
}

std::size_t TestFilter::streams_on_worker_threads(std::size_t workers, std::size_t streams_each) const {
  std::atomic<std::size_t> passed{0};
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      const std::string path = "/worker";
      const Header headers[] = {Header{rust::String(":path"), rust::String(path)}};
      for (std::size_t i = 0; i < streams_each; ++i) {
        TestStream stream(*config_, background_);
        if (stream.request_headers(rust::Slice<const Header>(headers, 1), true) == ENVOYX_HEADERS_CONTINUE &&
            stream.headers_forwarded(ENVOYX_DIRECTION_REQUEST)) {
          ++passed;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return passed;
}

rust::String TestFilter::null_host_error() const {
  try {
    config_->new_stream(nullptr);
  } catch (const rust::Error& error) {
    return rust::String::lossy(error.what());
  }
  return rust::String();
}

namespace {

// Records every log message of the core and the modules (any thread).
class LogRecorder : public LogSink {
 public:
  bool enabled(LogLevel) const override { return true; }
  void log(LogLevel, Bytes message) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    messages_.emplace_back(to_string_view(message));
  }
  bool contains(std::string_view needle) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::any_of(messages_.begin(), messages_.end(),
                       [&](const std::string& m) { return m.find(needle) != std::string::npos; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::vector<std::string> messages_;
};

// The process's runtime (ABI 1.2 runtime_get), which the tests fill where Envoy's would come from
// its bootstrap layers or RTDS: a boolean reads only as a boolean, a number only as a number.
class TestRuntime : public Runtime {
 public:
  bool boolean(Bytes key, bool& value) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = booleans_.find(std::string(to_string_view(key)));
    if (found == booleans_.end()) {
      return false;
    }
    value = found->second;
    return true;
  }
  bool number(Bytes key, double& value) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = numbers_.find(std::string(to_string_view(key)));
    if (found == numbers_.end()) {
      return false;
    }
    value = found->second;
    return true;
  }
  void set_boolean(std::string key, bool value) {
    std::lock_guard<std::mutex> lock(mutex_);
    numbers_.erase(key);
    booleans_[std::move(key)] = value;
  }
  void set_number(std::string key, double value) {
    std::lock_guard<std::mutex> lock(mutex_);
    booleans_.erase(key);
    numbers_[std::move(key)] = value;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, bool> booleans_;
  std::map<std::string, double> numbers_;
};

const std::shared_ptr<TestRuntime>& test_runtime() {
  static const std::shared_ptr<TestRuntime> runtime = std::make_shared<TestRuntime>();
  return runtime;
}

// Installed before the first load, like a host installing Envoy's logger at startup.
const std::shared_ptr<LogRecorder>& log_recorder() {
  static const std::shared_ptr<LogRecorder> recorder = [] {
    auto installed = std::make_shared<LogRecorder>();
    set_log_sink(installed);
    set_worker_count(1);  // one worker: the test's thread
    set_runtime(test_runtime());
    return installed;
  }();
  return recorder;
}

}  // namespace

void set_runtime_bool(rust::Str key, bool value) {
  log_recorder();
  test_runtime()->set_boolean(std::string(key), value);
}

void set_runtime_number(rust::Str key, double value) {
  log_recorder();
  test_runtime()->set_number(std::string(key), value);
}

std::unique_ptr<TestFilter> load_json(rust::Str json) {
  log_recorder();
  auto background = std::make_shared<WorkerQueue>();
  return std::make_unique<TestFilter>(
      filter_config_from_json(bytes_of(std::string_view(json.data(), json.size())), background), background);
}

std::unique_ptr<TestFilter> load_proto(rust::Slice<const std::uint8_t> bytes) {
  log_recorder();
  auto background = std::make_shared<WorkerQueue>();
  return std::make_unique<TestFilter>(filter_config_from_proto(bytes, background), background);
}

rust::String json_load_error(rust::Str json) {
  try {
    load_json(json);
  } catch (const rust::Error& error) {
    return rust::String::lossy(error.what());
  }
  return rust::String();
}

rust::String proto_load_error(rust::Slice<const std::uint8_t> bytes) {
  try {
    load_proto(bytes);
  } catch (const rust::Error& error) {
    return rust::String::lossy(error.what());
  }
  return rust::String();
}

bool logged(rust::Str needle) { return log_recorder()->contains(std::string_view(needle.data(), needle.size())); }

}  // namespace envoyx::testhost
