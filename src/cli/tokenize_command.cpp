// `voxtral-rt tokenize` / `detokenize`: text <-> token ids with the model's tekken tokenizer.
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt::cli {
namespace {

struct TokOptions {
  std::string model = kDefaultModelId;
  std::string tekken;
  std::vector<std::string> text;
  std::vector<int> ids;
  bool json = false;
  bool pieces = false;
};

Tokenizer load(const TokOptions& o) {
  return Tokenizer::from_file(o.tekken.empty() ? resolve_model_path(o.model) + "/" + kTokenizerFileName
                                               : o.tekken);
}

void add_source_options(CLI::App* cmd, TokOptions& o) {
  cmd->add_option("-m,--model", o.model, "Checkpoint directory or Hugging Face repo id")
      ->capture_default_str();
  cmd->add_option("--tekken", o.tekken, "Use this tekken.json instead of the model's");
}

}  // namespace

Runner add_tokenize_commands(CLI::App& app) {
  auto opt = std::make_shared<TokOptions>();
  auto* tok = app.add_subcommand("tokenize", "Text to token ids (plain text; special-token strings "
                                             "in the text are not special)");
  add_source_options(tok, *opt);
  tok->add_option("TEXT", opt->text, "Text (words are joined with spaces); read from stdin if absent");
  tok->add_flag("--json", opt->json, "Print a JSON array of {id, piece}");

  auto* detok = app.add_subcommand("detokenize", "Token ids to text (special tokens are dropped)");
  add_source_options(detok, *opt);
  detok->add_option("IDS", opt->ids, "Token ids; read from stdin (whitespace separated) if absent");
  detok->add_flag("--pieces", opt->pieces, "Print each id with its piece instead of the text");

  return [opt, tok] {
    const Tokenizer t = load(*opt);
    if (tok->parsed()) {
      std::string text;
      if (opt->text.empty()) {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else {
        for (std::size_t i = 0; i < opt->text.size(); ++i) text += (i ? " " : "") + opt->text[i];
      }
      const auto ids = t.encode(text);
      if (opt->json) {
        nlohmann::json j = nlohmann::json::array();
        for (int id : ids) j.push_back({{"id", id}, {"piece", t.piece(id)}});
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      } else {
        for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
        std::cout << "\n";
      }
      return 0;
    }
    std::vector<int> ids = opt->ids;
    if (ids.empty()) {
      long long v = 0;
      while (std::cin >> v) {
        if (v < 0 || v >= t.vocab_size())
          throw Error(Status::invalid_argument, "token id " + std::to_string(v) + " outside [0, " +
                                                    std::to_string(t.vocab_size()) + ")");
        ids.push_back(static_cast<int>(v));
      }
      if (!std::cin.eof()) throw Error(Status::invalid_argument, "stdin holds something other than token ids");
    }
    if (opt->pieces) {
      for (int id : ids) std::cout << id << "\t" << t.piece(id) << "\n";
    } else {
      std::cout << t.decode(ids) << "\n";
    }
    return 0;
  };
}

}  // namespace vrt::cli
