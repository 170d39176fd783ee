#include "support/service_discovery.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "support/child_process.hpp"
#include "support/nats_server.hpp"

namespace infermesh::test {

std::vector<std::string> gather_answers(nats_transport& transport, const std::string& subject,
                                        std::chrono::milliseconds wait, const std::string& payload) {
  struct inbox {
    std::mutex mutex;
    std::vector<std::string> bodies;
  };
  auto got = std::make_shared<inbox>();  // the handler may outlive this call
  const auto reply = transport.new_inbox();
  auto sub = transport.subscribe(reply, "", [got](incoming_message&& in) {
    if (in.no_responders) return;  // the server's status when nobody subscribes to `subject`: not an answer
    std::lock_guard<std::mutex> lock(got->mutex);
    got->bodies.emplace_back(in.payload.view());
  });
  if (!sub) return {};
  transport.publish(subject, payload, reply);
  std::this_thread::sleep_for(wait);  // unknown number of answerers: gather for the whole window
  transport.unsubscribe(*sub);
  std::lock_guard<std::mutex> lock(got->mutex);
  return got->bodies;
}

std::string schema_problems(const std::string& schema, const std::vector<std::string>& documents) {
  const auto dir = make_temp_dir("infermesh-schema");
  std::vector<std::string> argv{"/usr/bin/python3", "-c",
                                "import json, sys, jsonschema\n"
                                "schema = json.load(open(sys.argv[1]))\n"
                                "jsonschema.Draft7Validator.check_schema(schema)\n"
                                "for path in sys.argv[2:]:\n"
                                "    jsonschema.validate(json.load(open(path)), schema)\n"
                                "print('valid', len(sys.argv) - 2)\n",
                                std::string(INFERMESH_SOURCE_DIR) + "/tests/schemas/" + schema + ".json"};
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const auto path = dir + "/answer-" + std::to_string(i) + ".json";
    std::ofstream(path) << documents[i];
    argv.push_back(path);
  }
  child_process python("jsonschema", argv);
  const auto status = python.wait_exit(std::chrono::seconds(60));
  const auto output = python.output();
  std::filesystem::remove_all(dir);
  if (status && *status == 0 && output.find("valid " + std::to_string(documents.size())) != std::string::npos)
    return "";
  return "jsonschema (" + schema + "): exit " + (status ? std::to_string(*status) : "none") + "\n" + output;
}

}  // namespace infermesh::test
