#include "runtime/nats_credentials.hpp"

#include <cstdlib>
#include <fstream>

namespace infermesh {
namespace {

void fill(std::string& field, const char* variable) {
  if (!field.empty()) return;
  if (const char* v = std::getenv(variable); v != nullptr && *v) field = v;
}

bool readable(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

nats_credentials with_environment(nats_credentials c) {
  fill(c.user, "INFERMESH_NATS_USER");
  fill(c.password, "INFERMESH_NATS_PASSWORD");
  fill(c.token, "INFERMESH_NATS_TOKEN");
  fill(c.nkey, "INFERMESH_NATS_NKEY");
  fill(c.nkey_seed_file, "INFERMESH_NATS_NKEY_SEED_FILE");
  fill(c.creds_file, "INFERMESH_NATS_CREDS");
  fill(c.tls_ca_file, "INFERMESH_NATS_TLS_CA");
  fill(c.tls_cert_file, "INFERMESH_NATS_TLS_CERT");
  fill(c.tls_key_file, "INFERMESH_NATS_TLS_KEY");
  fill(c.tls_server_name, "INFERMESH_NATS_TLS_SERVER_NAME");
  fill(c.inbox_prefix, "INFERMESH_NATS_INBOX_PREFIX");
  c.tls = c.tls || !c.tls_ca_file.empty() || !c.tls_cert_file.empty() || !c.tls_server_name.empty();
  return c;
}

std::string nats_credentials::describe() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (!user.empty()) add("user " + user);
  if (!token.empty()) add("token");
  if (!nkey.empty()) add("nkey " + nkey);
  if (!creds_file.empty()) add("creds " + creds_file);
  if (tls) add(tls_cert_file.empty() ? "TLS" : "TLS with a client certificate");
  if (!inbox_prefix.empty()) add("inboxes " + inbox_prefix + ".>");
  return out.empty() ? "anonymous" : out;
}

std::optional<std::string> nats_credentials::problem() const {
  const int ways = !user.empty() + !token.empty() + !nkey.empty() + !creds_file.empty();
  if (ways > 1) return "auth: give one of user/password, token, nkey or creds_file, not " + std::to_string(ways);
  if (!password.empty() && user.empty()) return "auth.password: needs auth.user";
  if (!user.empty() && password.empty()) return "auth.password: is required with auth.user";
  if (nkey.empty() != nkey_seed_file.empty()) return "auth.nkey_seed_file: nkey and nkey_seed_file go together";
  if (!nkey_seed_file.empty() && !readable(nkey_seed_file)) return "auth.nkey_seed_file: cannot read '" + nkey_seed_file + "'";
  if (!creds_file.empty() && !readable(creds_file)) return "auth.creds_file: cannot read '" + creds_file + "'";
  if (tls_cert_file.empty() != tls_key_file.empty()) return "tls.key_file: cert_file and key_file go together";
  for (const auto* f : {&tls_ca_file, &tls_cert_file, &tls_key_file})
    if (!f->empty() && !readable(*f)) return "tls: cannot read '" + *f + "'";
  if (!inbox_prefix.empty()) {
    bool token_start = true;
    for (const char ch : inbox_prefix) {
      const auto u = static_cast<unsigned char>(ch);
      if (u <= 0x20 || u == 0x7f || ch == '*' || ch == '>' || (ch == '.' && token_start))
        return "inbox_prefix: '" + inbox_prefix + "' is not a NATS subject without wildcards (e.g. _INBOX.alice)";
      token_start = ch == '.';
    }
    if (token_start) return "inbox_prefix: '" + inbox_prefix + "' must not end with '.'";
  }
  return std::nullopt;
}

}  // namespace infermesh
