#include "simulator/host_network.hpp"

// TODO(issue 13): being written.
