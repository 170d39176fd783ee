// infermesh-evaluate: measures what a node serves on rendered documents its models never saw.
//
//   /usr/bin/python3 training/synthetic_documents.py --out DIR --count 1000 --seed 99 --fonts heldout --rotate
//   build/release/infermesh-evaluate --docs DIR [--config FILE [--node NAME]] [--fields] [--limit N]
//
// The models and their preprocessing come from a node config, read by the node's own loader: the embedded
// default (cluster-config/single-node.yaml) unless --config names another file (--node picks a node of a
// cluster file). The model serving `orient` turns each page upright (a Tesseract model serving `orient` does it
// by OSD), the model serving `classify` classifies it, and with --fields the model serving `ocr` reads it and
// the extraction rules parse it: each through the function the node calls (load_model, split_pages,
// preprocess_image, rotation_from_scores, classify_scores, tesseract_ocr, extract_fields) with the config's
// values (input size, colour order, resize, mean/std, decode, labels, Tesseract settings, document limits).
//
// Prints one table: classifier top-1 (after orientation correction) overall and per type, its expected calibration
// error and the share of wrong answers at confidence >= 0.9, orientation accuracy on rotated and on
// upright pages, and with --fields the exact-match accuracy of each extracted field and the CPF check (numbers
// with wrong check digits must be marked invalid), and the classifier's measures again with its scores weighed
// by the page's text (document::weigh_type_by_text), as `process` answers. scripts/evaluate.sh renders the pages and runs it.

#include <atomic>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "actors/document.hpp"
#include "actors/model_step.hpp"
#include "calibration.hpp"
#include "messages/codec.hpp"
#include "models/document_pages.hpp"
#include "models/field_extraction.hpp"
#include "models/image_preprocess.hpp"
#include "models/model.hpp"
#include "models/tesseract_ocr.hpp"
#include "runtime/config.hpp"

namespace infermesh {
namespace {

constexpr const char* usage =
    "usage: infermesh-evaluate --docs DIR [--config FILE [--node NAME]] [--fields] [--show-misses] [--limit N]\n"
    "                          [--workers N]\n"
    "  --docs DIR      pages and DIR/truth.jsonl, as training/synthetic_documents.py writes them\n"
    "  --config FILE   the node config whose models are measured (default: the embedded\n"
    "                  cluster-config/single-node.yaml); --node NAME picks a node of a cluster file\n"
    "  --fields        also read every page with the config's OCR model and score the extracted fields\n"
    "  --show-misses   print each wrong answer\n"
    "  --limit N       only the first N documents\n"
    "  --workers N     pages measured in parallel (default: the OCR model's `workers`, else 2)\n";

struct options {
  std::string docs, config_file, node;
  bool fields = false, show_misses = false;
  std::size_t limit = SIZE_MAX;
  int workers = 0;  ///< 0: the OCR model's `workers`
};

struct labelled_document {
  std::string file, doc_type;
  int ccw_rotation = 0;
  std::map<std::string, std::string> fields;
  bool cpf_valid = true;
};

struct tally {
  std::uint64_t right = 0, total = 0;
  void add(bool ok) { right += ok, total += 1; }
  std::string percent() const {
    char out[64];
    std::snprintf(out, sizeof out, "%6.2f%%  (%llu/%llu)", total ? 100.0 * right / total : 0.0,
                  static_cast<unsigned long long>(right), static_cast<unsigned long long>(total));
    return out;
  }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<labelled_document> load_truth(const std::string& dir) {
  std::vector<labelled_document> docs;
  std::ifstream in(dir + "/truth.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto v = decode_value(shared_bytes::copy_of(line), encoding::json, decode_limits{});
    if (!v) continue;
    labelled_document d;
    d.file = dir + "/" + *v->find("file")->get_if<std::string>();
    d.doc_type = *v->find("doc_type")->get_if<std::string>();
    d.ccw_rotation = static_cast<int>(*v->find("rotation")->get_if<std::int64_t>());
    for (const auto& [k, f] : *v->find("fields")->get_if<value_map>()) {
      if (const auto* s = f.get_if<std::string>()) d.fields[k] = *s;
      if (const auto* b = f.get_if<bool>(); b != nullptr && k == "cpf_valid") d.cpf_valid = *b;
    }
    docs.push_back(std::move(d));
  }
  return docs;
}

/// Parses argv; nullopt after printing why (exit code in `exit_code`).
std::optional<options> parse_options(int argc, char** argv, int& exit_code) {
  options o;
  exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") return exit_code = 0, std::cout << usage, std::nullopt;
    if (k == "--fields" || k == "--show-misses") {
      (k == "--fields" ? o.fields : o.show_misses) = true;
      continue;
    }
    if (i + 1 >= argc) return std::cerr << "infermesh-evaluate: " << k << " needs a value\n" << usage, std::nullopt;
    const std::string v = argv[++i];
    try {
      if (k == "--docs") o.docs = v;
      else if (k == "--config") o.config_file = v;
      else if (k == "--node") o.node = v;
      else if (k == "--limit") o.limit = std::stoul(v);
      else if (k == "--workers") o.workers = std::stoi(v);
      else return std::cerr << "infermesh-evaluate: unknown option " << k << "\n" << usage, std::nullopt;
    } catch (const std::exception&) {
      return std::cerr << "infermesh-evaluate: " << k << ": not a number: " << v << "\n", std::nullopt;
    }
  }
  if (o.docs.empty()) return std::cerr << "infermesh-evaluate: --docs is required\n" << usage, std::nullopt;
  if (!o.node.empty() && o.config_file.empty())
    return std::cerr << "infermesh-evaluate: --node needs --config (the embedded default has one node)\n", std::nullopt;
  return o;
}

/// A batched model (`orient` or `classify`) as the node loads and feeds it. Thread-safe: a model is not (only
/// one thread may run it), so forward passes take turns; preprocessing runs on the caller's thread.
class batched_step {
 public:
  static outcome<std::unique_ptr<batched_step>> load(const model_config& config) {
    auto loaded = load_model(config);
    if (!loaded) return error{loaded.err().code, "model '" + config.name + "': " + loaded.err().message};
    return std::unique_ptr<batched_step>(new batched_step(config, std::move(*loaded)));
  }
  /// The probabilities for `page` turned upright by `upright_rotation` (clockwise degrees).
  outcome<std::vector<float>> scores(const shared_bytes& page, int upright_rotation) {
    auto tensor = preprocess_image(page, config_.input, upright_rotation);
    if (!tensor) return tensor.err();
    tensor_batch batch{1, {3, config_.input.height, config_.input.width}, std::move(*tensor)};
    std::lock_guard<std::mutex> g(mutex_);
    auto out = model_->run(batch);
    if (!out) return out.err();
    return std::move(out->data);
  }
  const model_config& config() const { return config_; }

 private:
  batched_step(model_config config, std::unique_ptr<model> m) : config_(std::move(config)), model_(std::move(m)) {}
  model_config config_;
  std::unique_ptr<model> model_;
  std::mutex mutex_;
};

/// The first model of `config` serving `step`, or nullptr.
const model_config* serving(const node_config& config, const std::string& step) {
  for (const auto& hosted : config.models)
    for (const auto& s : hosted.model.serves)
      if (s == step) return &hosted.model;
  return nullptr;
}

int run(int argc, char** argv) {
  int exit_code = 0;
  const auto opts = parse_options(argc, argv, exit_code);
  if (!opts) return exit_code;
  auto config = opts->config_file.empty() ? load_embedded_default_config()
                                          : load_config_file(opts->config_file, opts->node);
  if (!config) return std::cerr << "infermesh-evaluate: " << config.err().message << "\n", 2;
  const model_config* orient = serving(*config, "orient");
  const model_config* classify = serving(*config, "classify");
  const model_config* ocr = serving(*config, "ocr");
  const auto missing = [&](const std::string& step, const std::string& why) {
    std::cerr << "infermesh-evaluate: " << config->source << ": node '" << config->node_name
              << "' has no model serving " << step << " (" << why << ")\n";
    return 2;
  };
  if (!orient) return missing("orient", "every page is turned upright first");
  if (opts->fields && !ocr) return missing("ocr", "--fields reads every page");
  const bool orient_by_osd = orient->backend == model_config::backend_kind::tesseract;

  auto docs = load_truth(opts->docs);
  if (docs.size() > opts->limit) docs.resize(opts->limit);
  if (docs.empty()) return std::cerr << "infermesh-evaluate: no documents in " << opts->docs << "/truth.jsonl\n", 2;

  std::unique_ptr<batched_step> orienter, classifier;
  for (auto [m, slot] : {std::pair{orient_by_osd ? nullptr : orient, &orienter}, std::pair{classify, &classifier}}) {
    if (m == nullptr) continue;
    auto loaded = batched_step::load(*m);
    if (!loaded) return std::cerr << "infermesh-evaluate: " << config->source << ": " << loaded.err().message << "\n", 1;
    *slot = std::move(*loaded);
  }
  std::cerr << "infermesh-evaluate: node '" << config->node_name << "' of " << config->source << ": orient by '"
            << orient->name << "'" << (classify ? ", classify by '" + classify->name + "'" : std::string())
            << (opts->fields ? ", ocr by '" + ocr->name + "'" : std::string()) << "\n";
  use_single_threaded_image_codecs();
  const bool needs_engine = orient_by_osd || opts->fields;
  const ocr_config engine_config = ocr ? ocr->ocr : orient->ocr;
  const int workers = opts->workers > 0 ? opts->workers : ocr ? ocr->workers : 2;

  std::mutex mutex;
  std::map<std::string, tally> fields;
  tally top1, orientation, cpf_invalid_flagged, cpf_valid_kept, upright_kept;
  std::map<std::string, tally> top1_by_type, top1_with_text_by_type;
  tally top1_with_text;
  calibration classify_calibration, with_text_calibration;
  std::map<std::string, std::map<std::string, int>> confusion;
  std::uint64_t failed = 0;
  std::string first_failure, engine_failure;
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      std::shared_ptr<tesseract_ocr> engine;
      if (needs_engine) {
        auto created = tesseract_ocr::create(engine_config);
        if (!created) {
          std::lock_guard<std::mutex> g(mutex);
          engine_failure = created.err().message;
          return;
        }
        engine = std::move(*created);
      }
      for (std::size_t i; (i = next++) < docs.size();) {
        const auto& d = docs[i];
        const auto fail = [&](const std::string& what) {
          std::lock_guard<std::mutex> g(mutex);
          if (failed++ == 0) first_failure = d.file + ": " + what;
        };
        const auto bytes = shared_bytes::copy_of(read_all(d.file));
        if (bytes.size() > config->max_image_bytes) {
          fail("larger than node.max_image_bytes");
          continue;
        }
        auto pages = split_pages(bytes, 1, config->documents);  // a PNG or JPEG is its own first page
        if (!pages) {
          fail(pages.err().message);
          continue;
        }
        const shared_bytes& image = pages->pages.front();
        ocr_page page;
        if (orienter) {
          auto scores = orienter->scores(image, 0);
          if (!scores) {
            fail(scores.err().message);
            continue;
          }
          page.rotation = rotation_from_scores(orienter->config().labels, *scores);
        } else {
          auto rotation = engine->orientation(image);
          if (!rotation) {
            fail(rotation.err().message);
            continue;
          }
          page.rotation = *rotation;
        }
        if (opts->fields) {
          const auto known = page.rotation;
          auto read = engine->read(image, known.degrees, true);
          if (!read) {
            fail(read.err().message);
            continue;
          }
          page = std::move(*read);
          page.rotation = known;
        }
        const int expected = (360 - d.ccw_rotation) % 360;
        auto extracted = extract_fields(d.doc_type, page.text);
        std::string predicted, predicted_with_text;
        double confidence = 0, confidence_with_text = 0;
        if (classifier) {
          auto scores = classifier->scores(image, page.rotation.degrees);
          if (scores) {
            const auto c = classify_scores(classifier->config().labels, *scores);
            predicted = c.doc_type, confidence = c.confidence;
            // as `process` answers: the image's scores weighed by the type words the page prints
            document weighed;
            weighed.classified = c;
            weighed.weigh_type_by_text(page.text);
            predicted_with_text = weighed.classified->doc_type, confidence_with_text = weighed.classified->confidence;
          }
        }
        std::lock_guard<std::mutex> g(mutex);
        if (opts->show_misses && page.rotation.degrees != expected)
          std::cout << "miss " << d.file << " orientation: want " << expected << " got " << page.rotation.degrees
                    << " (confidence " << page.rotation.confidence << ")\n";
        if (d.ccw_rotation != 0) orientation.add(page.rotation.degrees == expected);
        else upright_kept.add(page.rotation.degrees == 0);
        for (const auto& [name, want] : d.fields) {
          if (!opts->fields) break;
          if (name == "cpf_valid") continue;
          auto got = extracted->fields.find(name);
          const bool right = got != extracted->fields.end() && got->second == want;
          fields[d.doc_type + "." + name].add(right);
          if (opts->show_misses && !right)
            std::cout << "miss " << d.file << " " << name << ": want '" << want << "' got '"
                      << (got == extracted->fields.end() ? std::string("(none)") : got->second) << "'\n--- text:\n"
                      << page.text << "---\n";
        }
        if (opts->fields && d.doc_type == "id_card" && !d.cpf_valid)
          cpf_invalid_flagged.add(!extracted->valid["id_number"]);
        if (opts->fields && d.doc_type == "id_card" && d.cpf_valid && extracted->fields.count("id_number") &&
            extracted->fields.at("id_number") == d.fields.at("id_number"))
          cpf_valid_kept.add(extracted->valid["id_number"]);
        if (classifier) {
          top1.add(predicted == d.doc_type);
          top1_by_type[d.doc_type].add(predicted == d.doc_type);
          classify_calibration.add(confidence, predicted == d.doc_type);
          if (opts->show_misses && predicted != d.doc_type)
            std::cout << "miss " << d.file << " class: want " << d.doc_type << " got " << predicted << "\n";
          ++confusion[d.doc_type][predicted];
          if (opts->fields) {
            top1_with_text.add(predicted_with_text == d.doc_type);
            top1_with_text_by_type[d.doc_type].add(predicted_with_text == d.doc_type);
            with_text_calibration.add(confidence_with_text, predicted_with_text == d.doc_type);
            if (opts->show_misses && predicted_with_text != d.doc_type)
              std::cout << "miss " << d.file << " class with text: want " << d.doc_type << " got " << predicted_with_text << "\n";
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!engine_failure.empty())
    return std::cerr << "infermesh-evaluate: " << config->source << ": model '" << (ocr ? ocr->name : orient->name)
                     << "': " << engine_failure << "\n", 1;
  if (failed > 0)
    std::cerr << "infermesh-evaluate: " << failed << " of " << docs.size() << " documents not measured (first: "
              << first_failure << ")\n";

  std::cout << "| measure | accuracy |\n| --- | --- |\n";
  if (classifier) {
    std::cout << "| classifier top-1 (after orientation correction) | " << top1.percent() << " |\n";
    for (const auto& [type, t] : top1_by_type) std::cout << "| classifier top-1: " << type << " | " << t.percent() << " |\n";
    char ece[32];
    std::snprintf(ece, sizeof ece, "%.4f", classify_calibration.expected_calibration_error());
    std::cout << "| classifier expected calibration error (10 bins) | " << ece << " |\n"
              << "| classifier wrong at confidence >= 0.9 | " << classify_calibration.high_confidence_wrong() << " |\n";
    if (opts->fields) {
      std::snprintf(ece, sizeof ece, "%.4f", with_text_calibration.expected_calibration_error());
      std::cout << "| classifier + page text (as `process` answers) top-1 | " << top1_with_text.percent() << " |\n";
      for (const auto& [type, t] : top1_with_text_by_type)
        std::cout << "| classifier + page text top-1: " << type << " | " << t.percent() << " |\n";
      std::cout << "| classifier + page text expected calibration error (10 bins) | " << ece << " |\n"
                << "| classifier + page text wrong at confidence >= 0.9 | " << with_text_calibration.high_confidence_wrong()
                << " |\n";
    }
  }
  std::cout << "| orientation: rotated pages corrected to upright | " << orientation.percent() << " |\n";
  std::cout << "| orientation: upright pages left upright | " << upright_kept.percent() << " |\n";
  for (const auto& [name, t] : fields) std::cout << "| field " << name << " exact match | " << t.percent() << " |\n";
  if (opts->fields)
    std::cout << "| id_card: wrong CPF check digits marked invalid | " << cpf_invalid_flagged.percent() << " |\n"
              << "| id_card: right CPFs read exactly marked valid | " << cpf_valid_kept.percent() << " |\n";
  if (classifier) {
    std::cout << "\nconfusion (truth -> predicted: count)\n";
    for (const auto& [truth, row] : confusion)
      for (const auto& [pred, n] : row)
        if (pred != truth) std::cout << "  " << truth << " -> " << pred << ": " << n << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace infermesh

int main(int argc, char** argv) { return infermesh::run(argc, argv); }
