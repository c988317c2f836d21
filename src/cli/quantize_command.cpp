// `voxtral-rt quantize -m MODEL --qlinear 8da4w ... -o model.vxrt`: converts an original
// checkpoint into one packed model file (weights quantized and laid out for the kernels, config
// and tokenizer included), then reopens it to check that it loads.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "model_options.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"

namespace vrt::cli {

Runner add_quantize_command(CLI::App& app) {
  struct Options {
    std::string model = kDefaultModelId;
    std::string output;
    SchemeFlags schemes;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("quantize", "Convert a checkpoint into one packed .vxrt model file (quantized "
                                             "weights in the kernels' layout, config and tokenizer included)");
  cmd->add_option("-m,--model", o->model, "Checkpoint directory or Hugging Face repo id")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "The .vxrt file to write")->required();
  add_scheme_options(cmd, o->schemes, /*runs_model=*/false);
  return [o] {
    const auto t0 = std::chrono::steady_clock::now();
    const auto model = Model::load(resolve_model_path(o->model), load_options(o->schemes));
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model->save_packed(o->output);
    const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    LoadOptions one_thread;
    one_thread.threads = 1;
    const auto reopened = Model::load(o->output, one_thread);
    std::fprintf(stderr, "quantize: %s -> %s (%.2f GB): %s; quantized in %.1f s, written in %.1f s, reopened in %.0f ms\n",
                 o->model.c_str(), o->output.c_str(),
                 static_cast<double>(std::filesystem::file_size(o->output)) / 1e9, model->quant().describe().c_str(),
                 load_s, total_s - load_s, reopened->load_ms());
    return 0;
  };
}

}  // namespace vrt::cli
