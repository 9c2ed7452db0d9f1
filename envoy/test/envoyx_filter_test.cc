// The filter on Envoy's mocks, with the C test module (rust/test-modules/c/module.c, built with
// -DSTOCK_TEST_FILTER) loaded through the real loader and core: headers are read and written in
// Envoy's own maps, a body chunk is rewritten in place, the core's actions (local reply, reset,
// continue) reach Envoy once the call into the core has returned, so Envoy may call the filter
// back from inside them (a new call), and a continue posted from a module thread is carried out
// on the worker, or dropped once the stream is gone.
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "source/common/buffer/buffer_impl.h"

#include "envoy/envoyx_config.h"
#include "envoy/envoyx_filter.h"

#include "test/mocks/http/mocks.h"
#include "test/test_common/environment.h"
#include "test/test_common/utility.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {
namespace {

using testing::_;
using testing::Eq;
using testing::Invoke;
using testing::NiceMock;
using testing::Return;

class EnvoyxFilterTest : public testing::Test {
public:
  void setUpFilter(const std::string& mode) {
    DynamicModuleConfigProto config;
    config.set_name("test");
    // This project's runfiles, not Envoy's (runfilesPath() defaults the workspace to "envoy"):
    // TEST_WORKSPACE is "_main" under bzlmod, "envoyx" under WORKSPACE.
    config.set_file_path(TestEnvironment::runfilesPath(
        "envoy/test/libtest_filter.so", TestEnvironment::getCheckedEnvVar("TEST_WORKSPACE")));
    config.set_filter_config(mode);
    config.set_do_not_dlclose(true);
    std::string bytes;
    ASSERT_TRUE(config.SerializeToString(&bytes));
    core_config_ = std::make_shared<const rust::Box<envoyx::FilterConfig>>(
        envoyx::filter_config_from_proto(
            rust::Slice<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                       bytes.size()),
            nullptr));

    ON_CALL(decoder_callbacks_, requestHeaders())
        .WillByDefault(Return(Http::RequestHeaderMapOptRef(request_headers_)));
    ON_CALL(encoder_callbacks_, responseHeaders())
        .WillByDefault(Return(Http::ResponseHeaderMapOptRef(response_headers_)));
    // Continues posted to the worker wait here until the test runs them, like a dispatcher
    // that has not yet reached its next loop iteration. post() is called from module threads.
    ON_CALL(decoder_callbacks_.dispatcher_, post(_)).WillByDefault(Invoke([this](auto callback) {
      std::lock_guard<std::mutex> lock(posted_mutex_);
      posted_.push_back(std::move(callback));
    }));

    filter_ = std::make_shared<EnvoyxFilter>(core_config_);
    filter_->setDecoderFilterCallbacks(decoder_callbacks_);
    filter_->setEncoderFilterCallbacks(encoder_callbacks_);
  }

  // Waits (up to 5 s) for a module thread to post a continue, and returns it.
  Event::PostCb waitForPosted() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        if (!posted_.empty()) {
          Event::PostCb callback = std::move(posted_.front());
          posted_.erase(posted_.begin());
          return callback;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no continue was posted";
    return [] {};
  }

  CoreFilterConfigSharedPtr core_config_;
  NiceMock<Http::MockStreamDecoderFilterCallbacks> decoder_callbacks_;
  NiceMock<Http::MockStreamEncoderFilterCallbacks> encoder_callbacks_;
  Http::TestRequestHeaderMapImpl request_headers_{
      {":method", "POST"}, {":path", "/"}, {":authority", "host"}, {"x-copy-me", "copied"}};
  Http::TestResponseHeaderMapImpl response_headers_{{":status", "200"}};
  std::shared_ptr<EnvoyxFilter> filter_;
  std::mutex posted_mutex_;
  std::vector<Event::PostCb> posted_;
};

TEST_F(EnvoyxFilterTest, HeadersAndBodyInEnvoysOwnMemory) {
  setUpFilter("basic");
  EXPECT_EQ(Http::FilterHeadersStatus::Continue, filter_->decodeHeaders(request_headers_, false));
  EXPECT_EQ("added", request_headers_.get_("x-envoyx-request"));

  // Two slices; the module upper-cases them in place.
  Buffer::OwnedImpl body;
  body.appendSliceForTest("hello ");
  body.appendSliceForTest("world");
  const Buffer::RawSliceVector before = body.getRawSlices();
  EXPECT_EQ(Http::FilterDataStatus::Continue, filter_->decodeData(body, true));
  EXPECT_EQ("HELLO WORLD", body.toString());
  EXPECT_EQ(before, body.getRawSlices()); // same memory: rewritten in place, not copied

  response_headers_.addCopy(Http::LowerCaseString("x-upstream-drop-me"), "x");
  EXPECT_EQ(Http::FilterHeadersStatus::Continue, filter_->encodeHeaders(response_headers_, true));
  EXPECT_EQ("copied", response_headers_.get_("x-copied"));
  EXPECT_FALSE(response_headers_.has("x-upstream-drop-me"));
  filter_->onStreamComplete();
  filter_->onDestroy();
}

TEST_F(EnvoyxFilterTest, LocalReplyIsSentAfterTheHookReturns) {
  setUpFilter("reply");
  Http::TestResponseHeaderMapImpl reply_headers{{":status", "403"}};
  EXPECT_CALL(decoder_callbacks_, sendLocalReply(Http::Code::Forbidden, Eq("denied by envoyx\n"),
                                                 _, _, Eq("envoyx_denied")))
      .WillOnce(Invoke([&](Http::Code, absl::string_view body,
                           std::function<void(Http::ResponseHeaderMap&)> modify_headers,
                           const absl::optional<Grpc::Status::GrpcStatus>, absl::string_view) {
        modify_headers(reply_headers);
        // As Envoy's filter manager does, the reply runs through this filter's encoder hooks
        // from inside sendLocalReply. The core's call has returned, so this is a new call, and
        // the core passes the module's own reply through.
        EXPECT_EQ(Http::FilterHeadersStatus::Continue,
                  filter_->encodeHeaders(reply_headers, body.empty()));
        Buffer::OwnedImpl reply_body(body);
        EXPECT_EQ(Http::FilterDataStatus::Continue, filter_->encodeData(reply_body, true));
      }));
  EXPECT_EQ(Http::FilterHeadersStatus::StopIteration,
            filter_->decodeHeaders(request_headers_, true));
  // The reply's headers as the module gave them (the core checked them, the filter copied them).
  EXPECT_EQ("envoyx", reply_headers.get_("x-reply"));
  filter_->onStreamComplete();
  filter_->onDestroy();
}

TEST_F(EnvoyxFilterTest, ResetReachesEnvoyAndMayDestroyTheFilterOnTheSpot) {
  setUpFilter("reset");
  // Envoy destroys the filters from inside resetStream; the filter then touches neither the
  // core's stream nor Envoy again, and the hook still returns its status.
  EXPECT_CALL(decoder_callbacks_, resetStream(_, _)).WillOnce(Invoke([this](auto, auto) {
    filter_->onStreamComplete();
    filter_->onDestroy();
  }));
  EXPECT_CALL(decoder_callbacks_, sendLocalReply(_, _, _, _, _)).Times(0);
  EXPECT_EQ(Http::FilterHeadersStatus::StopIteration,
            filter_->decodeHeaders(request_headers_, true));
}

TEST_F(EnvoyxFilterTest, ContinueFromAModuleThreadResumesDecoding) {
  setUpFilter("delay");
  EXPECT_CALL(decoder_callbacks_, continueDecoding()).Times(0);
  EXPECT_EQ(Http::FilterHeadersStatus::StopIteration,
            filter_->decodeHeaders(request_headers_, true));
  EXPECT_EQ("yes", request_headers_.get_("x-delayed"));
  Event::PostCb posted = waitForPosted();
  testing::Mock::VerifyAndClearExpectations(&decoder_callbacks_);
  // The continue is carried out as soon as the posted callback reaches the core on the worker,
  // not posted round the dispatcher a second time.
  EXPECT_CALL(decoder_callbacks_, continueDecoding());
  posted();
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    EXPECT_TRUE(posted_.empty());
  }
  filter_->onDestroy();
}

TEST_F(EnvoyxFilterTest, ContinueFromAModuleThreadResumesEncoding) {
  setUpFilter("delay");
  EXPECT_CALL(decoder_callbacks_, continueDecoding());
  filter_->decodeHeaders(request_headers_, true);
  waitForPosted()();
  EXPECT_EQ(Http::FilterHeadersStatus::StopIteration,
            filter_->encodeHeaders(response_headers_, true));
  EXPECT_EQ("yes", response_headers_.get_("x-delayed-response"));
  Event::PostCb posted = waitForPosted();
  EXPECT_CALL(encoder_callbacks_, continueEncoding());
  posted();
  filter_->onDestroy();
}

TEST_F(EnvoyxFilterTest, ContinueOfADirectionNotStoppedIsIgnoredByTheCore) {
  setUpFilter("delay");
  EXPECT_EQ(Http::FilterHeadersStatus::StopIteration,
            filter_->decodeHeaders(request_headers_, true));
  Event::PostCb posted = waitForPosted();
  // One continue resumes the request; the same continue delivered again finds nothing stopped.
  EXPECT_CALL(decoder_callbacks_, continueDecoding());
  posted();
  filter_->onScheduled();
  filter_->onDestroy();
}

TEST_F(EnvoyxFilterTest, ContinueAfterTheStreamIsGoneIsDropped) {
  setUpFilter("delay");
  EXPECT_EQ(Http::FilterHeadersStatus::StopIteration,
            filter_->decodeHeaders(request_headers_, true));
  Event::PostCb posted = waitForPosted();
  // The client went away: Envoy resets and destroys the filter before the continue runs.
  filter_->onDestroy();
  EXPECT_CALL(decoder_callbacks_, continueDecoding()).Times(0);
  posted();
}

} // namespace
} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
