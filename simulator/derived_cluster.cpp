#include "simulator/derived_cluster.hpp"

// TODO(issue 13): being written.
