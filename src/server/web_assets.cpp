#include "server/web_assets.h"

namespace vrt::server {

namespace {
const char* content_type_of(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}
}  // namespace

std::optional<WebAsset> find_web_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const auto& f : embedded_web_files())
    if (f.path == path) return WebAsset{f.bytes, content_type_of(path)};
  return std::nullopt;
}

}  // namespace vrt::server
