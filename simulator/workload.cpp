#include "simulator/workload.hpp"

// TODO(issue 13): being written.
