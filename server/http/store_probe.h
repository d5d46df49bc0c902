// Readiness probe for the configured database until the Store is wired into
// the server: PostgreSQL answers PQping; SQLite's database file opens
// read-write (or, before first use, its directory is writable).
#pragma once

#include <functional>

#include "server/http/config.h"

namespace bulwark::server {

std::function<bool()> makeStoreProbe(const DatabaseConfig& database);

}  // namespace bulwark::server
