// infermesh-evaluate: measures the document models on rendered documents the classifier never saw.
//
//   /usr/bin/python3 models/synthetic_documents.py --out DIR --count 1000 --seed 99 --fonts heldout --rotate
//   build/release/infermesh-evaluate --docs DIR [--model M.pt --labels L.txt --size N] [--fields] [--limit N]
//
// Prints one table: classifier top-1 (after orientation correction), orientation accuracy on rotated pages,
// and with --fields (a full OCR pass per page) the exact-match accuracy of each extracted field and the CPF
// check (numbers with wrong check digits must be marked invalid).
// Runs the same code the node runs (Tesseract engines, extraction, preprocessing, TorchScript), in-process.

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "messages/codec.hpp"
#include "models/field_extraction.hpp"
#include "models/image_preprocess.hpp"
#include "models/model.hpp"
#include "models/tesseract_ocr.hpp"

namespace infermesh {
namespace {

struct document {
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

std::vector<document> load_truth(const std::string& dir) {
  std::vector<document> docs;
  std::ifstream in(dir + "/truth.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto v = decode_value(shared_bytes::copy_of(line), encoding::json, decode_limits{});
    if (!v) continue;
    document d;
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

int run(int argc, char** argv) {
  std::string dir, classifier_path, labels_path, orienter_path, orienter_labels_path;
  model_config classifier, orienter;
  std::size_t limit = SIZE_MAX;
  int workers = 2;
  bool read_fields = false, show_misses = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--fields" || k == "--show-misses") {
      (k == "--fields" ? read_fields : show_misses) = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) return std::cerr << k << " needs a value\n", 2;
    const std::string v = argv[i + 1];
    if (k == "--docs") dir = v;
    else if (k == "--model") classifier_path = v;
    else if (k == "--labels") labels_path = v;
    else if (k == "--size") classifier.input.width = classifier.input.height = std::stoi(v);
    else if (k == "--orientation-model") orienter_path = v;
    else if (k == "--orientation-labels") orienter_labels_path = v;
    else if (k == "--orientation-size") orienter.input.width = orienter.input.height = std::stoi(v);
    else if (k == "--limit") limit = std::stoul(v);
    else if (k == "--workers") workers = std::stoi(v);
    else return std::cerr << "unknown option " << k << "\n", 2;
  }
  if (dir.empty()) {
    std::cerr << "usage: infermesh-evaluate --docs DIR [--model model.pt --labels labels.txt --size N] "
                 "[--orientation-model model.pt --orientation-labels labels.txt --orientation-size N] [--fields] "
                 "[--show-misses] [--limit N] "
                 "[--workers N]\n";
    return 2;
  }
  auto docs = load_truth(dir);
  if (docs.size() > limit) docs.resize(limit);
  if (docs.empty()) return std::cerr << "no documents in " << dir << "/truth.jsonl\n", 2;

  auto load = [](model_config& config, const std::string& path, const std::string& labels_file) -> std::unique_ptr<model> {
    if (path.empty()) return nullptr;
    config.path = path;
    std::istringstream labels(read_all(labels_file));
    for (std::string l; std::getline(labels, l);)
      if (!l.empty()) config.labels.push_back(l);
    config.input.fast_jpeg_decode = true;
    auto loaded = load_model(config);
    if (!loaded) {
      std::cerr << loaded.err().message << "\n";
      std::exit(1);
    }
    return std::move(*loaded);
  };
  std::unique_ptr<model> net = load(classifier, classifier_path, labels_path);
  std::unique_ptr<model> orientation_net = load(orienter, orienter_path, orienter_labels_path);
  /// The orientation model's answer for one page (the node's `orient` step), or Tesseract's when there is none.
  auto orient_with_model = [&](const shared_bytes& bytes) -> std::optional<page_rotation> {
    auto tensor = preprocess_image(bytes, orienter.input, 0);
    if (!tensor) return std::nullopt;
    tensor_batch batch{1, {3, orienter.input.height, orienter.input.width}, std::move(*tensor)};
    auto scores = orientation_net->run(batch);
    if (!scores) return std::nullopt;
    return rotation_from_scores(orienter.labels, scores->data);
  };

  std::mutex mutex;
  std::map<std::string, tally> fields;
  tally top1, orientation, cpf_invalid_flagged, upright_kept;
  std::map<std::string, std::map<std::string, int>> confusion;
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      auto engine = tesseract_ocr::create({});
      if (!engine) return;
      for (std::size_t i; (i = next++) < docs.size();) {
        const auto& d = docs[i];
        const auto bytes = shared_bytes::copy_of(read_all(d.file));
        ocr_page page;
        std::optional<page_rotation> known;
        if (orientation_net && !(known = orient_with_model(bytes))) continue;
        if (read_fields) {
          auto read = (*engine)->read(bytes, known ? known->degrees : -1, true);
          if (!read) continue;
          page = std::move(*read);
          if (known) page.rotation = *known;
        } else if (known) {
          page.rotation = *known;
        } else {
          auto rotation = (*engine)->orientation(bytes);
          if (!rotation) continue;
          page.rotation = *rotation;
        }
        const int expected = (360 - d.ccw_rotation) % 360;
        auto extracted = extract_fields(d.doc_type, page.text);
        std::string predicted;
        if (net) {
          auto tensor = preprocess_image(bytes, classifier.input, page.rotation.degrees);
          if (tensor) {
            tensor_batch batch{1, {3, classifier.input.height, classifier.input.width}, std::move(*tensor)};
            auto scores = net->run(batch);
            if (scores) predicted = classifier.labels[std::max_element(scores->data.begin(), scores->data.end()) -
                                                      scores->data.begin()];
          }
        }
        std::lock_guard<std::mutex> g(mutex);
        if (show_misses && page.rotation.degrees != expected)
          std::cout << "miss " << d.file << " orientation: want " << expected << " got " << page.rotation.degrees
                    << " (confidence " << page.rotation.confidence << ")\n";
        if (d.ccw_rotation != 0) orientation.add(page.rotation.degrees == expected);
        else upright_kept.add(page.rotation.degrees == 0);
        for (const auto& [name, want] : d.fields) {
          if (!read_fields) break;
          if (name == "cpf_valid") continue;
          auto got = extracted->fields.find(name);
          const bool right = got != extracted->fields.end() && got->second == want;
          fields[d.doc_type + "." + name].add(right);
          if (show_misses && !right)
            std::cout << "miss " << d.file << " " << name << ": want '" << want << "' got '"
                      << (got == extracted->fields.end() ? std::string("(none)") : got->second) << "'\n--- text:\n"
                      << page.text << "---\n";
        }
        if (read_fields && d.doc_type == "id_card" && !d.cpf_valid)
          cpf_invalid_flagged.add(!extracted->valid["id_number"]);
        if (net) {
          top1.add(predicted == d.doc_type);
          if (show_misses && predicted != d.doc_type)
            std::cout << "miss " << d.file << " class: want " << d.doc_type << " got " << predicted << "\n";
          ++confusion[d.doc_type][predicted];
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  std::cout << "| measure | accuracy |\n| --- | --- |\n";
  if (net) std::cout << "| classifier top-1 (after orientation correction) | " << top1.percent() << " |\n";
  std::cout << "| orientation: rotated pages corrected to upright | " << orientation.percent() << " |\n";
  std::cout << "| orientation: upright pages left upright | " << upright_kept.percent() << " |\n";
  for (const auto& [name, t] : fields) std::cout << "| field " << name << " exact match | " << t.percent() << " |\n";
  if (read_fields)
    std::cout << "| id_card: wrong CPF check digits marked invalid | " << cpf_invalid_flagged.percent() << " |\n";
  if (net) {
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
