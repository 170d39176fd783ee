#include "simulator/derived_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace infermesh::sim {
namespace fs = std::filesystem;

int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

namespace {

/// `host:port` with the port replaced.
std::string with_port(const std::string& listen, int port) {
  const auto colon = listen.rfind(':');
  return (colon == std::string::npos ? listen : listen.substr(0, colon)) + ":" + std::to_string(port);
}

}  // namespace

outcome<derived_cluster> derive_cluster(const scenario& s, const std::string& run_dir, bool with_proxies) {
  const auto& file = s.cluster.file;
  std::ifstream in(file);
  if (!in) return error{error_code::not_found, "cluster.file: cannot read '" + file + "'"};
  std::stringstream text;
  text << in.rdbuf();
  // The file as the launcher reads it first: its errors name the key, and what is rewritten below has the
  // shapes the plan checked (servers a list of maps, nodes a list).
  if (auto plan = parse_cluster_plan(text.str(), file); !plan) return plan.err();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return error{error_code::bad_request, file + ": invalid YAML: " + e.what()};
  }
  derived_cluster out;
  root["base_dir"] = fs::absolute(file).parent_path().lexically_normal().string();
  if (s.cluster.free_ports && root["nats"] && root["nats"]["cluster"] && root["nats"]["cluster"]["servers"]) {
    auto servers = root["nats"]["cluster"]["servers"];
    for (std::size_t i = 0; i < servers.size(); ++i)
      for (const char* key : {"client_port", "cluster_port", "monitor_port"}) servers[i][key] = free_tcp_port();
  }
  auto nodes = root["nodes"];
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i]["node"] || !nodes[i]["node"].IsMap())
      return error{error_code::bad_request, file + ": nodes[" + std::to_string(i) + "].node: must be a map"};
    nodes[i]["node"]["faults"] = true;
    nodes[i]["node"]["control"] = true;
    if (s.cluster.free_ports && nodes[i]["http"] && nodes[i]["http"].IsMap() && nodes[i]["http"]["listen"] &&
        nodes[i]["http"]["listen"].IsScalar())
      nodes[i]["http"]["listen"] = with_port(nodes[i]["http"]["listen"].as<std::string>(), free_tcp_port());
  }
  if (const auto d = root["delivery"]; d && d.IsMap())
    for (const auto& kv : d)
      if (kv.first.IsScalar() && kv.second.IsScalar())  // the node's own config check names anything else
        out.durable[kv.first.as<std::string>()] = kv.second.as<std::string>() == "durable";

  // The plan as the launcher will read it (servers' ports known now), then the proxies in front of them.
  auto emit = [&] {
    YAML::Emitter e;
    e << root;
    return std::string(e.c_str()) + "\n";
  };
  auto plan = parse_cluster_plan(emit(), file);
  if (!plan) return plan.err();
  if (with_proxies) {
    if (plan->nats_servers.empty())
      return error{error_code::bad_request, "link faults need a cluster file that launches its NATS servers (nats.cluster)"};
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto name = nodes[i]["node"]["name"].as<std::string>();
      YAML::Node urls(YAML::NodeType::Sequence);
      for (const auto& server : plan->nats_servers) {
        auto p = link_proxy::start("127.0.0.1", server.address, server.client_port);
        if (!p) return p.err();
        urls.push_back((*p)->url());
        out.proxies[name].push_back(std::move(*p));
      }
      nodes[i]["nats"]["servers"] = urls;
    }
  }
  std::error_code made;
  fs::create_directories(run_dir, made);
  out.path = (fs::path(run_dir) / "cluster.yaml").string();
  std::ofstream o(out.path, std::ios::trunc);
  o << "# Derived by infermesh simulate from " << fs::absolute(file).string()
    << " (free ports, fault door on, link proxies)\n"
    << emit();
  o.close();
  if (!o) return error{error_code::internal, "cannot write " + out.path};
  auto reread = parse_cluster_plan(emit(), out.path);
  if (!reread) return reread.err();
  out.plan = std::move(*reread);
  return out;
}

}  // namespace infermesh::sim
