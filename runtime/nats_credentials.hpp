#pragma once
/// Who a NATS client is and how it talks to the servers: user/password, token, NKey, a `.creds` file (JWT +
/// NKey seed), and TLS (CA, client certificate and key, expected server name). Nodes read them from their config
/// (`nats.auth`, `nats.tls`); every process — nodes, the CLI, the launcher, the simulator — also reads the
/// environment (`INFERMESH_NATS_*`, below), which fills what the config leaves out. Never from the command line:
/// arguments are visible to every user of the machine (`ps`).
///
///   INFERMESH_NATS_USER, INFERMESH_NATS_PASSWORD     user and password
///   INFERMESH_NATS_TOKEN                              a token
///   INFERMESH_NATS_NKEY, INFERMESH_NATS_NKEY_SEED_FILE  an NKey public key and the file with its seed
///   INFERMESH_NATS_CREDS                              a `.creds` file (nsc's user JWT and seed)
///   INFERMESH_NATS_INBOX_PREFIX                       where this client's replies arrive (default `_INBOX`)
///   INFERMESH_NATS_TLS_CA, INFERMESH_NATS_TLS_CERT, INFERMESH_NATS_TLS_KEY, INFERMESH_NATS_TLS_SERVER_NAME
///
/// Plain data and plain code: the NATS seam (nats_transport.cpp) applies it.

#include <optional>
#include <string>

namespace infermesh {

struct nats_credentials {
  std::string user;
  std::string password;
  std::string token;
  std::string nkey;             ///< the public key (U...)
  std::string nkey_seed_file;   ///< the file with its seed (SU...)
  std::string creds_file;       ///< a `.creds` file
  std::string tls_ca_file;      ///< set: TLS on, servers verified against it
  std::string tls_cert_file;    ///< client certificate (with tls_key_file)
  std::string tls_key_file;
  std::string tls_server_name;  ///< the name the servers' certificates must carry (default: the URL's host)
  /// The subject prefix of this client's reply inboxes (nats.c's custom inbox prefix); empty: `_INBOX`. With
  /// permissions, each user may subscribe only under its own prefix (`_INBOX.<user>.>`), so no client reads
  /// another's replies (cluster-config/nats-accounts.conf).
  std::string inbox_prefix;
  bool tls = false;             ///< TLS required (implied by any tls_* field)

  /// What is set, for logs: "user alice, TLS" (never a secret).
  std::string describe() const;
  /// The inbox prefix in effect: `inbox_prefix`, else `_INBOX`.
  std::string inboxes() const { return inbox_prefix.empty() ? "_INBOX" : inbox_prefix; }
  /// An error naming the field when the combination cannot work (a password without a user, a key without a
  /// certificate, two ways of authenticating at once, an unreadable file).
  std::optional<std::string> problem() const;
};

/// `c` with every empty field taken from the environment (INFERMESH_NATS_*).
nats_credentials with_environment(nats_credentials c);

}  // namespace infermesh
