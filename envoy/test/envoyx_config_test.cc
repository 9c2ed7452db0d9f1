// The factory in Envoy's test style: a valid config yields a callback that installs a stream
// filter; a config naming a missing file is rejected with a status that names the file; the
// configuration is destroyed on the main thread even when a worker drops the last reference.
#include <string>
#include <thread>

#include "envoy/envoyx_config.h"

#include "test/mocks/http/mocks.h"
#include "test/mocks/server/factory_context.h"
#include "test/test_common/environment.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {
namespace {

using testing::_;
using testing::HasSubstr;
using testing::SaveArg;

// The C test module, built by Bazel next to this test (see envoy/test/BUILD). It lives in this
// project's runfiles, not Envoy's: runfilesPath() defaults its workspace to "envoy"
// (test/test_common/environment.h), so pass the test's own workspace, which Bazel names in
// TEST_WORKSPACE ("_main" under bzlmod, "envoyx" under WORKSPACE).
std::string testModulePath() {
  return TestEnvironment::runfilesPath("envoy/test/libtest_filter.so",
                                       TestEnvironment::getCheckedEnvVar("TEST_WORKSPACE"));
}

// A valid configuration of the C test module.
DynamicModuleConfigProto basicConfig() {
  DynamicModuleConfigProto config;
  config.set_name("test");
  config.set_file_path(testModulePath());
  config.set_filter_config("basic");
  config.set_do_not_dlclose(true);
  return config;
}

TEST(EnvoyxFilterConfigFactoryTest, ValidConfigInstallsAStreamFilter) {
  const DynamicModuleConfigProto config = basicConfig();
  NiceMock<Server::Configuration::MockFactoryContext> context;
  EnvoyxFilterConfigFactory factory;
  absl::StatusOr<Http::FilterFactoryCb> cb =
      factory.createFilterFactoryFromProto(config, "stats", context);
  ASSERT_TRUE(cb.ok()) << cb.status();

  Http::MockFilterChainFactoryCallbacks filter_callbacks;
  EXPECT_CALL(filter_callbacks, addStreamFilter(_));
  (*cb)(filter_callbacks);
}

// An LDS update drops the factory callback on the main thread while a stream still runs; its
// filter, destroyed on the worker, holds the last reference. The module's config-destroy hook
// must not run there (x/abi.h): the release is posted to the main dispatcher, whose mock
// isThreadSafe() is true only on the thread that made it (test/mocks/event/mocks.cc).
TEST(EnvoyxFilterConfigFactoryTest, LastReleaseOnAWorkerIsPostedToTheMainThread) {
  const DynamicModuleConfigProto config = basicConfig();
  NiceMock<Server::Configuration::MockFactoryContext> context;
  Event::MockDispatcher& main = context.server_factory_context_.dispatcher_;
  EnvoyxFilterConfigFactory factory;
  absl::StatusOr<Http::FilterFactoryCb> cb =
      factory.createFilterFactoryFromProto(config, "stats", context);
  ASSERT_TRUE(cb.ok()) << cb.status();
  Http::StreamFilterSharedPtr filter;
  Http::MockFilterChainFactoryCallbacks filter_callbacks;
  EXPECT_CALL(filter_callbacks, addStreamFilter(_)).WillOnce(SaveArg<0>(&filter));
  (*cb)(filter_callbacks);
  cb = absl::CancelledError("the listener was updated");

  Event::PostCb release;
  EXPECT_CALL(main, post(_)).WillOnce([&release](Event::PostCb posted) { release = std::move(posted); });
  std::thread worker([&filter] { filter.reset(); });
  worker.join();
  ASSERT_TRUE(release) << "the configuration was destroyed on the worker";
  release(); // On the main thread: the module's config-destroy hook runs here.
}

TEST(EnvoyxFilterConfigFactoryTest, MissingFileIsRejectedNamingTheFile) {
  DynamicModuleConfigProto config;
  config.set_file_path("/nonexistent/envoyx/libmissing.so");

  NiceMock<Server::Configuration::MockFactoryContext> context;
  EnvoyxFilterConfigFactory factory;
  absl::StatusOr<Http::FilterFactoryCb> cb =
      factory.createFilterFactoryFromProto(config, "stats", context);
  ASSERT_FALSE(cb.ok());
  EXPECT_EQ(cb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cb.status().message()), HasSubstr("/nonexistent/envoyx/libmissing.so"));
}

TEST(EnvoyxFilterConfigFactoryTest, RegisteredUnderItsNameAndTypeUrl) {
  auto* by_name =
      Registry::FactoryRegistry<Server::Configuration::NamedHttpFilterConfigFactory>::getFactory(
          "envoy.http.dynamic_modules");
  ASSERT_NE(by_name, nullptr);
  auto* by_type = Registry::FactoryRegistry<Server::Configuration::NamedHttpFilterConfigFactory>::
      getFactoryByType("envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfig");
  EXPECT_EQ(by_name, by_type);
}

} // namespace
} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
