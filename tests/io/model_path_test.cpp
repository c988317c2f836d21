// MODEL argument resolution: directories, the Hugging Face cache layout, and the not-found message.
#include "voxtral_rt/model_path.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "test_util.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

namespace fs = std::filesystem;

void touch_checkpoint(const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* f : {"consolidated.safetensors", "params.json", "tekken.json"}) test::write_text((dir / f).string(), "x");
}

TEST(ModelPath, DirectoryIsTakenAsIs) {
  test::TempDir d;
  EXPECT_EQ(resolve_model_path(d.path()), d.path());
}

TEST(ModelPath, HubCacheHonoursEnvironment) {
  ::setenv("HF_HUB_CACHE", "/x/hub", 1);
  EXPECT_EQ(huggingface_hub_cache(), "/x/hub");
  ::unsetenv("HF_HUB_CACHE");
  ::setenv("HF_HOME", "/y", 1);
  EXPECT_EQ(huggingface_hub_cache(), "/y/hub");
  ::unsetenv("HF_HOME");
  ::setenv("XDG_CACHE_HOME", "/z", 1);
  EXPECT_EQ(huggingface_hub_cache(), "/z/huggingface/hub");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(huggingface_hub_cache(), "/home/u/.cache/huggingface/hub");
}

TEST(ModelPath, FindsTheSnapshotNamedByRefsMain) {
  test::TempDir cache;
  ::setenv("HF_HUB_CACHE", cache.path().c_str(), 1);
  const fs::path repo = fs::path(cache.path()) / "models--mistralai--Voxtral-Mini-4B-Realtime-2602";
  touch_checkpoint(repo / "snapshots" / "aaa111");
  touch_checkpoint(repo / "snapshots" / "bbb222");
  fs::create_directories(repo / "refs");
  test::write_text((repo / "refs" / "main").string(), "aaa111\n");
  EXPECT_EQ(resolve_model_path(kDefaultModelId), (repo / "snapshots" / "aaa111").string());
  // Without refs/main, any complete snapshot is used; an incomplete one never is.
  fs::remove(repo / "refs" / "main");
  fs::remove(repo / "snapshots" / "bbb222" / "tekken.json");
  EXPECT_EQ(resolve_model_path(kDefaultModelId), (repo / "snapshots" / "aaa111").string());
}

TEST(ModelPath, FindsTheDownloadScriptsFolder) {
  test::TempDir cache, models;
  ::setenv("HF_HUB_CACHE", cache.path().c_str(), 1);
  ::setenv("VRT_MODELS_DIR", models.path().c_str(), 1);
  touch_checkpoint(fs::path(models.path()) / "org--name");
  EXPECT_EQ(resolve_model_path("org/name"), models.path() + "/org--name");
}

TEST(ModelPath, NotFoundSaysHowToGetTheModel) {
  test::TempDir cache;
  ::setenv("HF_HUB_CACHE", cache.path().c_str(), 1);
  ::setenv("VRT_MODELS_DIR", cache.path().c_str(), 1);
  for (const std::string m : {std::string(kDefaultModelId), std::string("./no/such/dir/x")}) {
    try {
      resolve_model_path(m);
      ADD_FAILURE() << m;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::not_found);
      EXPECT_NE(std::string(e.what()).find("scripts/download-model.sh"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace vrt
